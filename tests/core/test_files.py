"""Files through HTTP: direct uploads, the checks at confirmation, a file field on a toy entity
and its downloads. The services leg stores in a real S3 API (moto on loopback, tests/s3.py),
the embedded leg on the local disk; the same tests run on both, and the uploads and downloads
go through a plain HTTP client, as a browser's would, never the SDK."""

import asyncio
import base64
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import update

from configs import get_settings
from core.application import create_application
from core.crud import CrudRouter
from core.db import Database, utcnow
from core.deps import Gates
from core.errors import Unauthorized
from core.files.models import StoredFile
from core.files.routes import blob_router, files_router
from core.platform.storage import LocalStorage, Storage
from core.security import Principal
from tests.conftest import Leg, client_for, reset_settings_caches
from tests.core.models import DocumentController, DocumentRead

ALICE, BOB = uuid.uuid4(), uuid.uuid4()
gates = Gates(token_url="/token", scopes={"regular": "Use it."})
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
API = "/api/v1"


async def authenticator(_: Database, token: str) -> Principal:
    users = {"alice": ALICE, "bob": BOB}
    if token not in users:
        raise Unauthorized()
    return Principal(id=users[token], scopes=frozenset({"regular"}))


documents = CrudRouter(DocumentController, DocumentRead, prefix="/documents", name="documents")


def include(app: FastAPI) -> None:
    app.include_router(blob_router(), prefix=API)
    app.include_router(files_router(), prefix=API, dependencies=gates.AUTHENTICATED)
    app.include_router(documents, prefix=API, dependencies=gates.AUTHENTICATED)


@pytest.fixture
async def app(leg: Leg) -> AsyncIterator[FastAPI]:
    app = create_application(get_settings(), authenticator=authenticator, include_routes=include)
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        client.headers["Authorization"] = "Bearer alice"
        yield client


BOB_AUTH = {"Authorization": "Bearer bob"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def outside(http: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    """A request to a URL the API handed out, with no credentials: to the app itself on the
    local disk, else to the store over real HTTP."""
    if url.startswith(str(http.base_url).rstrip("/")):
        return await http.request(method, url, headers={"Authorization": ""}, **kw)
    async with httpx.AsyncClient(timeout=10) as plain:
        return await plain.request(method, url, **kw)


async def start(
    http: httpx.AsyncClient,
    data: bytes,
    *,
    name: str = "photo.png",
    content_type: str = "image/png",
    size: int | None = None,
    sha256: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = {
        "name": name,
        "content_type": content_type,
        "size": len(data) if size is None else size,
        "sha256": sha256 or sha(data),
    }
    return await http.post(f"{API}/files/uploads", json=body, headers=headers)


async def send(
    http: httpx.AsyncClient, started: dict[str, Any], data: bytes, content_type: str = "image/png"
) -> httpx.Response:
    form = started["upload"]
    assert form["method"] == "POST"
    files = {"file": ("upload", data, content_type)}
    return await outside(http, "POST", form["url"], data=form["fields"], files=files)


async def uploaded(http: httpx.AsyncClient, data: bytes = PNG, **declared: Any) -> dict[str, Any]:
    """Start, send and confirm an upload; the confirmed file."""
    started = await start(http, data, **declared)
    assert started.status_code == 201, started.text
    sent = await send(http, started.json(), data, declared.get("content_type", "image/png"))
    assert sent.status_code in (200, 201, 204), sent.text
    file_id = started.json()["file"]["id"]
    confirmed = await http.post(f"{API}/files/{file_id}/confirm", headers=declared.get("headers"))
    assert confirmed.status_code == 200, confirmed.text
    return dict(confirmed.json())


async def document(http: httpx.AsyncClient) -> str:
    created = await http.post(f"{API}/documents", json={"title": "report"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_upload_attach_and_download_as_the_rows_reader(http: httpx.AsyncClient) -> None:
    file = await uploaded(http, name='../../etc/Quarterly "report"\n.png')
    assert file["status"] == "ready" and file["size"] == len(PNG) and file["sha256"] == sha(PNG)
    doc = await document(http)
    attached = await http.put(
        f"{API}/documents/{doc}/files/attachment", json={"file_id": file["id"]}
    )
    assert attached.status_code == 200, attached.text
    assert (await http.get(f"{API}/documents/{doc}")).json()["attachment_id"] == file["id"]

    link = await http.get(f"{API}/documents/{doc}/files/attachment")
    assert link.status_code == 200, link.text
    fetched = await outside(http, "GET", link.json()["url"])
    assert fetched.status_code == 200 and fetched.content == PNG
    disposition = fetched.headers["content-disposition"]
    assert (
        disposition.startswith("attachment;") and 'filename="Quarterly _report_.png"' in disposition
    )
    assert ".." not in disposition and "/" not in disposition.split("filename*")[0]


async def test_the_file_of_a_row_others_cannot_see_is_a_404(http: httpx.AsyncClient) -> None:
    file = await uploaded(http)
    doc = await document(http)
    await http.put(f"{API}/documents/{doc}/files/attachment", json={"file_id": file["id"]})
    for path in (f"/documents/{doc}/files/attachment", f"/files/{file['id']}/download"):
        assert (await http.get(API + path, headers=BOB_AUTH)).status_code == 404
    assert (await http.delete(f"{API}/documents/{doc}")).status_code == 204
    assert (await http.get(f"{API}/documents/{doc}/files/attachment")).status_code == 404


async def test_a_row_without_its_file_is_a_404(http: httpx.AsyncClient) -> None:
    doc = await document(http)
    answer = await http.get(f"{API}/documents/{doc}/files/attachment")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_confirmed_file_is_not_confirmed_twice_nor_by_another(
    http: httpx.AsyncClient,
) -> None:
    file = await uploaded(http)
    again = await http.post(f"{API}/files/{file['id']}/confirm")
    assert again.status_code == 409 and again.json()["type"].endswith("conflict")
    started = (await start(http, PNG)).json()
    await send(http, started, PNG)
    by_bob = await http.post(f"{API}/files/{started['file']['id']}/confirm", headers=BOB_AUTH)
    assert by_bob.status_code == 404


async def test_confirming_before_the_upload_arrived_is_a_409(http: httpx.AsyncClient) -> None:
    started = (await start(http, PNG)).json()
    early = await http.post(f"{API}/files/{started['file']['id']}/confirm")
    assert early.status_code == 409
    await send(http, started, PNG)
    assert (await http.post(f"{API}/files/{started['file']['id']}/confirm")).status_code == 200


async def test_a_type_outside_the_allowlist_is_refused_at_once(http: httpx.AsyncClient) -> None:
    answer = await start(http, b"<svg/>", name="x.svg", content_type="image/svg+xml")
    assert answer.status_code == 415
    assert answer.json()["type"].endswith("unsupported-media-type")


async def test_bytes_that_are_not_the_claimed_type_are_refused_and_deleted(
    http: httpx.AsyncClient,
) -> None:
    text = b"#!/bin/sh\necho not a picture\n"
    started = (await start(http, text, content_type="image/png")).json()
    await send(http, started, text)
    file_id = started["file"]["id"]
    refused = await http.post(f"{API}/files/{file_id}/confirm")
    assert refused.status_code == 415, refused.text
    assert (await http.get(f"{API}/files/{file_id}")).status_code == 404


async def test_bytes_other_than_declared_are_refused(http: httpx.AsyncClient) -> None:
    shorter = (await start(http, PNG, size=len(PNG) + 10)).json()
    await send(http, shorter, PNG)
    refused = await http.post(f"{API}/files/{shorter['file']['id']}/confirm")
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "size"]

    forged = (await start(http, PNG, sha256="0" * 64)).json()
    await send(http, forged, PNG)
    refused = await http.post(f"{API}/files/{forged['file']['id']}/confirm")
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "sha256"]


async def test_a_forged_checksum_of_a_larger_file_never_becomes_a_file(
    http: httpx.AsyncClient, leg: Leg
) -> None:
    big = PNG + os.urandom(64 * 1024)  # past what confirmation reads of an object
    forged = (await start(http, big, sha256="0" * 64)).json()
    if leg.s3 is not None:  # S3 refuses such bytes (BadDigest); moto checks nothing: the form
        fields = forged["upload"]["fields"]
        assert fields["x-amz-checksum-sha256"] == base64.b64encode(bytes(32)).decode()
        return
    await send(http, forged, big)
    confirmed = await http.post(f"{API}/files/{forged['file']['id']}/confirm")
    assert confirmed.status_code == 422 and confirmed.json()["errors"][0]["loc"][-1] == "sha256"


async def test_more_bytes_than_declared_never_become_a_file(http: httpx.AsyncClient) -> None:
    started = (await start(http, PNG[:100])).json()
    sent = await send(http, started, PNG)  # the local store refuses; moto ignores the policy
    confirmed = await http.post(f"{API}/files/{started['file']['id']}/confirm")
    assert sent.status_code == 413 or confirmed.status_code == 422
    assert confirmed.status_code in (409, 422)


async def test_an_upload_given_up_no_longer_counts_nor_confirms(
    http: httpx.AsyncClient, app: FastAPI, monkeypatch: Any
) -> None:
    monkeypatch.setenv("STORAGE_USER_QUOTA_BYTES", str(len(PNG) + 100))
    reset_settings_caches()
    try:
        started = (await start(http, PNG)).json()
        await send(http, started, PNG)
        assert (await start(http, PNG)).status_code == 413  # a pending upload counts
        file_id = uuid.UUID(started["file"]["id"])
        async with app.state.database.session() as session:
            past = utcnow() - timedelta(seconds=1)
            stmt = update(StoredFile).where(StoredFile.id == file_id).values(expires_at=past)
            await session.execute(stmt)
            await session.commit()
        assert (await start(http, PNG)).status_code == 201  # given up: no longer counted
        given_up = await http.post(f"{API}/files/{file_id}/confirm")
        assert given_up.status_code == 409
        assert "given up" in given_up.json()["detail"]
    finally:
        monkeypatch.undo()
        reset_settings_caches()


async def test_size_limit_and_quota(http: httpx.AsyncClient, monkeypatch: Any) -> None:
    monkeypatch.setenv("STORAGE_MAX_FILE_BYTES", "4000")
    monkeypatch.setenv("STORAGE_USER_QUOTA_BYTES", "5000")
    reset_settings_caches()
    try:
        too_big = await start(http, PNG, size=4001)
        assert too_big.status_code == 413 and too_big.json()["type"].endswith("payload-too-large")
        await uploaded(http)
        over = await start(http, PNG)
        assert over.status_code == 413 and over.json()["type"].endswith("quota-exceeded")
        assert (await start(http, PNG, size=100)).status_code == 201  # within what is left
        bob = await http.post(
            f"{API}/files/uploads",
            headers=BOB_AUTH,
            json={"name": "a.png", "content_type": "image/png", "size": 10, "sha256": sha(b"")},
        )
        assert bob.status_code == 201  # the quota is per user
    finally:
        monkeypatch.undo()
        reset_settings_caches()


async def test_a_stored_object_over_the_size_limit_never_becomes_a_file(
    http: httpx.AsyncClient, monkeypatch: Any
) -> None:
    monkeypatch.setenv("STORAGE_MAX_FILE_BYTES", "4000")
    reset_settings_caches()
    try:
        big = PNG + os.urandom(2000)
        started = (await start(http, big[:100])).json()
        sent = await send(http, started, big)  # the local store stops it; moto stores it all
        file_id = started["file"]["id"]
        confirmed = await http.post(f"{API}/files/{file_id}/confirm")
        assert sent.status_code == 413 or confirmed.status_code == 413, confirmed.text
        assert confirmed.status_code in (409, 413)
        if confirmed.status_code == 413:  # refused at confirmation: bytes and row deleted
            assert confirmed.json()["type"].endswith("payload-too-large")
            assert (await http.get(f"{API}/files/{file_id}")).status_code == 404
    finally:
        monkeypatch.undo()
        reset_settings_caches()


async def test_only_ones_own_confirmed_unattached_file_is_attached(
    http: httpx.AsyncClient,
) -> None:
    doc, other_doc = await document(http), await document(http)
    attach = f"{API}/documents/{doc}/files/attachment"
    bobs = await uploaded(http, headers=BOB_AUTH)
    assert (await http.put(attach, json={"file_id": bobs["id"]})).status_code == 404
    pending = (await start(http, PNG)).json()["file"]
    assert (await http.put(attach, json={"file_id": pending["id"]})).status_code == 409
    mine = await uploaded(http)
    assert (await http.put(attach, json={"file_id": mine["id"]})).status_code == 200
    twice = await http.put(
        f"{API}/documents/{other_doc}/files/attachment", json={"file_id": mine["id"]}
    )
    assert twice.status_code == 409
    as_bob = await http.put(attach, json={"file_id": mine["id"]}, headers=BOB_AUTH)
    assert as_bob.status_code == 404


async def test_replacing_or_removing_a_file_deletes_the_old_one(http: httpx.AsyncClient) -> None:
    doc = await document(http)
    attach = f"{API}/documents/{doc}/files/attachment"
    first, second = await uploaded(http), await uploaded(http)
    await http.put(attach, json={"file_id": first["id"]})
    old_link = (await http.get(attach)).json()["url"]
    assert (await http.put(attach, json={"file_id": second["id"]})).status_code == 200
    assert (await http.get(f"{API}/files/{first['id']}")).status_code == 404
    assert (await outside(http, "GET", old_link)).status_code in (403, 404)  # bytes are gone
    assert (await http.delete(attach)).status_code == 204
    assert (await http.get(attach)).status_code == 404
    assert (await http.get(f"{API}/documents/{doc}")).json()["attachment_id"] is None


async def test_a_held_file_cannot_be_deleted_alone(http: httpx.AsyncClient) -> None:
    doc, file = await document(http), await uploaded(http)
    await http.put(f"{API}/documents/{doc}/files/attachment", json={"file_id": file["id"]})
    assert (await http.delete(f"{API}/files/{file['id']}")).status_code == 409
    loose = await uploaded(http)
    assert (await http.delete(f"{API}/files/{loose['id']}")).status_code == 204
    assert (await http.get(f"{API}/files/{loose['id']}")).status_code == 404


async def test_bytes_go_to_the_store_not_through_the_api(http: httpx.AsyncClient, leg: Leg) -> None:
    form = (await start(http, PNG)).json()["upload"]
    if leg.s3 is not None:  # a presigned POST straight to the bucket, its policy fixing the rest
        assert form["url"].startswith(leg.s3.url)
        assert {"key", "policy", "Content-Type"} <= set(form["fields"])
        checksum = base64.b64encode(hashlib.sha256(PNG).digest()).decode()
        assert form["fields"]["x-amz-checksum-sha256"] == checksum  # S3 verifies and keeps it
        policy = json.loads(base64.b64decode(form["fields"]["policy"]))
        assert {"x-amz-checksum-sha256": checksum} in policy["conditions"]  # bound by the form
    else:  # the app plays the store on its own blob route, with a signed token
        assert form["url"] == f"http://test{API}/files/blobs" and set(form["fields"]) == {"token"}


@contextmanager
def store_down(leg: Leg, storage: Storage) -> Iterator[None]:
    """The store unreachable: moto's server stopped on the services leg; on the local disk, its
    directory gone, as a volume that is not mounted (an unwritable directory would be a fault
    of the app's own host, not a store that comes back)."""
    if leg.s3 is not None:
        leg.s3.stop()
        try:
            yield
        finally:
            leg.s3.start()
        return
    assert isinstance(storage, LocalStorage)
    away = storage.root.with_name(storage.root.name + ".unmounted")
    storage.root.rename(away)
    try:
        yield
    finally:
        away.rename(storage.root)


async def test_a_store_that_is_down_answers_503_then_recovers(
    http: httpx.AsyncClient, leg: Leg, app: FastAPI
) -> None:
    started = (await start(http, PNG)).json()
    await send(http, started, PNG)
    waiting = (await start(http, PNG)).json()
    confirm = f"{API}/files/{started['file']['id']}/confirm"
    with store_down(leg, app.state.storage):
        down = await http.post(confirm)
        assert down.status_code == 503, down.text
        assert down.headers["retry-after"] and down.json()["type"].endswith("storage-unavailable")
        if leg.s3 is None:  # the app plays the store: its blob route is down too
            refused = await send(http, waiting, PNG)
            assert refused.status_code == 503 and refused.headers["retry-after"]
    deadline = asyncio.get_running_loop().time() + 5
    while (back := await http.post(confirm)).status_code == 503:
        assert asyncio.get_running_loop().time() < deadline, "not back within 5 s"
        await asyncio.sleep(0.2)
    assert back.status_code == 200 and back.json()["status"] == "ready"  # nothing was lost
    assert (await send(http, waiting, PNG)).status_code in (200, 201, 204)
    assert (await http.post(f"{API}/files/{waiting['file']['id']}/confirm")).status_code == 200


async def test_the_quota_holds_against_uploads_started_at_once(
    http: httpx.AsyncClient, monkeypatch: Any
) -> None:
    monkeypatch.setenv("STORAGE_USER_QUOTA_BYTES", str(2 * len(PNG)))
    reset_settings_caches()
    try:
        answers = await asyncio.gather(*(start(http, PNG) for _ in range(6)))
        assert sorted(a.status_code for a in answers) == [201, 201, 413, 413, 413, 413]
    finally:
        monkeypatch.undo()
        reset_settings_caches()
