"""The files' sweep (`platform.sweep_files`): it removes the bytes and rows of uploads given
up, of files whose row was hard-deleted and of deleted files, keeps every file still in use,
and loses no row while the store is down. Both legs: local disk and moto's S3 on loopback."""

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import delete, select, update

from configs import get_settings
from configs.storage import StorageSettings
from core.db import utcnow
from core.files.housekeeping import file_references, sweep_files
from core.files.models import StoredFile
from core.platform.jobs import JobContext, maintenance
from core.platform.jobs.maintenance import sweep_stored_files
from core.platform.storage import Storage, StorageUnavailable
from tests.conftest import Leg
from tests.core import test_files
from tests.core.models import Document
from tests.core.test_files import (
    API,
    PNG,
    document,
    outside,
    send,
    start,
    store_down,
    uploaded,
)

app = test_files.app  # the fixtures: the app on this leg's store, and Alice's client
http = test_files.http


async def rows(app: FastAPI, *ids: str) -> set[str]:
    """Which of the files `ids` still have a row."""
    async with app.state.database.session() as session:
        wanted = [uuid.UUID(i) for i in ids]
        found = await session.scalars(select(StoredFile.id).where(StoredFile.id.in_(wanted)))
        return {str(i) for i in found}


async def key_of(app: FastAPI, file_id: str) -> str:
    async with app.state.database.session() as session:
        file = await session.get(StoredFile, uuid.UUID(file_id))
        assert file is not None
        return str(file.key)


async def give_up(app: FastAPI, file_id: str, ago: timedelta = timedelta(days=1)) -> None:
    async with app.state.database.session() as session:
        stmt = update(StoredFile).where(StoredFile.id == uuid.UUID(file_id))
        await session.execute(stmt.values(expires_at=utcnow() - ago))
        await session.commit()


async def hard_delete(app: FastAPI, doc: str) -> None:
    async with app.state.database.session() as session:
        await session.execute(delete(Document).where(Document.id == uuid.UUID(doc)))
        await session.commit()


async def pending(http: httpx.AsyncClient, *, upload: bool = True) -> str:
    started = (await start(http, PNG)).json()
    if upload:
        assert (await send(http, started, PNG)).status_code in (200, 201, 204)
    return str(started["file"]["id"])


async def attached(http: httpx.AsyncClient) -> tuple[str, str]:
    """A document and the confirmed file attached to it."""
    doc, file = await document(http), await uploaded(http)
    put = await http.put(f"{API}/documents/{doc}/files/attachment", json={"file_id": file["id"]})
    assert put.status_code == 200, put.text
    return doc, str(file["id"])


async def test_the_sweep_removes_exactly_what_no_one_will_use(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    storage: Storage = app.state.storage
    live_doc, live_file = await attached(http)
    soft_doc, soft_file = await attached(http)
    assert (await http.delete(f"{API}/documents/{soft_doc}")).status_code == 204
    loose = str((await uploaded(http))["id"])
    waiting = await pending(http)
    recent = await pending(http)
    await give_up(app, recent, timedelta(minutes=1))  # within the grace: a confirm may be on

    abandoned, never_sent = await pending(http), await pending(http, upload=False)
    await give_up(app, abandoned)
    await give_up(app, never_sent)
    gone_doc, orphan = await attached(http)
    await hard_delete(app, gone_doc)
    removed = {abandoned: await key_of(app, abandoned), orphan: await key_of(app, orphan)}

    result = await sweep_files(app.state.database, storage)
    assert result.given_up >= 2 and result.orphaned >= 1
    kept = {live_file, soft_file, loose, waiting, recent}
    assert await rows(app, *kept, abandoned, never_sent, orphan) == kept
    for key in removed.values():
        assert await storage.head(key) is None
    link = (await http.get(f"{API}/documents/{live_doc}/files/attachment")).json()["url"]
    assert (await outside(http, "GET", link)).content == PNG  # attached files keep their bytes
    again = await sweep_files(app.state.database, storage)
    assert again.total == 0  # idempotent: nothing left to remove


async def test_files_a_deletion_left_behind_lose_their_bytes_then_their_rows(
    http: httpx.AsyncClient, app: FastAPI, leg: Leg
) -> None:
    storage: Storage = app.state.storage
    loose = str((await uploaded(http))["id"])
    key = await key_of(app, loose)
    with store_down(leg, storage):  # the deletion commits; its bytes cannot go
        answer = await http.delete(f"{API}/files/{loose}")
    assert answer.status_code == 204
    assert await storage.head(key) is not None
    result = await sweep_files(app.state.database, storage)
    assert result.deleted >= 1
    assert await storage.head(key) is None and await rows(app, loose) == set()


async def test_a_store_that_is_down_keeps_every_row_for_the_next_run(
    http: httpx.AsyncClient, app: FastAPI, leg: Leg
) -> None:
    storage: Storage = app.state.storage
    given_up = [await pending(http) for _ in range(3)]
    for file_id in given_up:
        await give_up(app, file_id)
    with store_down(leg, storage):
        with pytest.raises(StorageUnavailable):
            await sweep_files(app.state.database, storage)
        assert await rows(app, *given_up) == set(given_up)  # bytes first: no row went
    result = await sweep_files(app.state.database, storage, batch=2)  # batches of two
    assert result.given_up >= 3 and await rows(app, *given_up) == set()


async def test_files_attached_where_this_process_cannot_look_are_kept(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    file = str((await uploaded(http))["id"])
    async with app.state.database.session() as session:
        stmt = update(StoredFile).where(StoredFile.id == uuid.UUID(file))
        await session.execute(stmt.values(attached_to="not_mapped_here.file_id"))
        await session.commit()
    assert "test_documents.attachment_id" in file_references()
    result = await sweep_files(app.state.database, app.state.storage)
    assert result.unknown >= 1 and await rows(app, file) == {file}


async def test_the_sweep_is_a_scheduled_platform_job(app: FastAPI) -> None:
    settings = get_settings()
    names = {s.job.name: s.expression(settings) for s in maintenance.schedules}
    assert names["platform.sweep_files"] == settings.storage.sweep_cron != ""
    ctx = JobContext(app.state.database, None, settings, job="platform.sweep_files", task_id="t")
    await sweep_stored_files(ctx)  # opens its own store from the settings, and closes it


def test_an_upload_form_cannot_outlive_its_pending_row() -> None:
    with pytest.raises(ValidationError, match="STORAGE_UPLOAD_EXPIRES_SECONDS"):
        StorageSettings(upload_expires_seconds=3600, pending_hours=1)
    assert StorageSettings(upload_expires_seconds=3599, pending_hours=1).pending_hours == 1
