"""Message attachments: files uploaded through /files, attached when the message is posted,
downloadable by the thread's members only, gone with the message, described in its event."""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, select

from app.messenger.models import Message
from core.files import StoredFile
from core.files.housekeeping import sweep_files
from tests.app.messenger.support import (
    API,
    Actor,
    actor,
    new_thread,
    problem_without_request_id,
    random_id,
    send,
)
from tests.core.test_files import PNG, outside, start, uploaded

TEXT = b"minutes of the launch meeting\n"
AS_TEXT = {"name": "notes.txt", "content_type": "text/plain"}


async def upload(client: httpx.AsyncClient, who: Actor, data: bytes = PNG, **kw: Any) -> str:
    """A confirmed upload of `who`: its id."""
    file = await uploaded(client, data, headers=who.headers, **kw)
    return str(file["id"])


async def post(
    client: httpx.AsyncClient, who: Actor, thread_id: str, file_ids: list[str]
) -> httpx.Response:
    body = {"body": "see attached", "attachment_ids": file_ids}
    return await client.post(f"{API}/threads/{thread_id}/messages", json=body, headers=who.headers)


def download_url(message: dict[str, Any], file_id: str) -> str:
    return f"{API}/messages/{message['id']}/attachments/{file_id}"


async def test_members_download_the_files_of_a_message_in_order(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    text = await upload(client, alice, TEXT, name="notes.txt", content_type="text/plain")
    image = await upload(client, alice, PNG, name="../../plan.png")

    posted = await post(client, alice, thread["id"], [text, image])
    assert posted.status_code == 201, posted.text
    message = posted.json()
    assert message["attachments"] == [
        {"id": text, "name": "notes.txt", "size": len(TEXT), "content_type": "text/plain"},
        {"id": image, "name": "plan.png", "size": len(PNG), "content_type": "image/png"},
    ]

    page = await client.get(f"{API}/threads/{thread['id']}/messages", headers=bob.headers)
    assert page.json()["items"][0]["attachments"] == message["attachments"]
    link = await client.get(download_url(message, text), headers=bob.headers)
    assert link.status_code == 200, link.text
    got = await outside(client, "GET", link.json()["url"])
    assert got.status_code == 200
    assert got.content == TEXT
    assert "notes.txt" in got.headers["content-disposition"]


async def test_a_non_member_gets_the_same_404_as_for_a_missing_message(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, eve = await actor(database, "alice"), await actor(database, "eve")
    thread = await new_thread(client, alice)
    file_id = await upload(client, alice)
    message = (await post(client, alice, thread["id"], [file_id])).json()

    hidden = await client.get(download_url(message, file_id), headers=eve.headers)
    missing = await client.get(download_url({"id": random_id()}, file_id), headers=eve.headers)
    assert hidden.status_code == missing.status_code == 404
    assert problem_without_request_id(hidden) == problem_without_request_id(missing)
    other_file = await client.get(download_url(message, random_id()), headers=alice.headers)
    assert other_file.status_code == 404


async def test_others_unconfirmed_held_or_repeated_files_are_refused(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    bobs = await upload(client, bob)
    pending = await start(client, PNG, headers=alice.headers)
    pending_id = pending.json()["file"]["id"]
    mine = await upload(client, alice)

    assert (await post(client, alice, thread["id"], [bobs])).status_code == 404
    assert (await post(client, alice, thread["id"], [pending_id])).status_code == 409
    repeated = await post(client, alice, thread["id"], [mine, mine])
    assert repeated.status_code == 422
    assert repeated.json()["errors"][0]["loc"] == ["body", "attachment_ids", 1]
    # A refused message takes nothing: no message, and the file is still free to attach.
    history = await client.get(f"{API}/threads/{thread['id']}/messages", headers=alice.headers)
    assert history.json()["items"] == []
    assert (await post(client, alice, thread["id"], [mine])).status_code == 201
    held = await post(client, alice, thread["id"], [mine])
    assert held.status_code == 409
    assert held.json()["type"].endswith("conflict")


async def test_a_message_carries_at_most_the_configured_number_of_files(
    make_app: Any, database: Any
) -> None:
    async with make_app(STORAGE_MAX_FILES_PER_ROW="2") as app:
        from tests.conftest import client_for

        async with client_for(app) as client:
            alice = await actor(database, "alice")
            thread = await new_thread(client, alice)
            files = [await upload(client, alice, PNG[:-i]) for i in range(1, 4)]
            too_many = await post(client, alice, thread["id"], files)
            assert too_many.status_code == 422
            assert too_many.json()["errors"][0]["loc"] == ["body", "attachment_ids"]
            assert (await post(client, alice, thread["id"], files[:2])).status_code == 201


async def test_deleting_a_message_hides_its_files(client: httpx.AsyncClient, database: Any) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    file_id = await upload(client, alice)
    message = (await post(client, alice, thread["id"], [file_id])).json()

    deleted = await client.delete(f"{API}/messages/{message['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    assert (
        await client.get(download_url(message, file_id), headers=bob.headers)
    ).status_code == 404
    own = await client.get(f"{API}/files/{file_id}/download", headers=alice.headers)
    assert own.status_code == 404


async def test_the_new_message_event_carries_metadata_never_a_url(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    file_id = await upload(client, alice)
    message = (await post(client, alice, thread["id"], [file_id])).json()
    await send(client, bob, thread["id"], "thanks")

    events = await client.get(f"{API}/threads/{thread['id']}/events", headers=bob.headers)
    created = [e for e in events.json()["items"] if e["type"] == "message.created"]
    assert created[0]["data"]["attachments"] == [
        {"id": file_id, "name": "photo.png", "size": len(PNG), "content_type": "image/png"}
    ]
    assert created[0]["data"]["id"] == message["id"]
    assert created[1]["data"]["attachments"] == []


async def test_the_sweep_removes_a_deleted_messages_files_and_keeps_the_others(
    client: httpx.AsyncClient, database: Any, app: FastAPI
) -> None:
    alice = await actor(database, "alice")
    thread = await new_thread(client, alice)
    gone, kept = await upload(client, alice), await upload(client, alice, TEXT, **AS_TEXT)
    deleted = (await post(client, alice, thread["id"], [gone])).json()
    message = (await post(client, alice, thread["id"], [kept])).json()
    await client.delete(f"{API}/messages/{deleted['id']}", headers=alice.headers)

    result = await sweep_files(app.state.database, app.state.storage)
    assert (result.deleted, result.orphaned, result.unknown) == (1, 0, 0)
    async with app.state.database.session() as session:
        left = set((await session.scalars(select(StoredFile.id))).all())
    assert {str(i) for i in left} == {kept}
    link = await client.get(download_url(message, kept), headers=alice.headers)
    assert (await outside(client, "GET", link.json()["url"])).content == TEXT


async def test_a_page_of_messages_is_read_as_plain_rows_with_its_files(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    file_id = await upload(client, alice, TEXT, **AS_TEXT)
    assert (await post(client, alice, thread["id"], [file_id])).status_code == 201
    assert (await post(client, alice, thread["id"], [])).status_code == 201
    built: list[Message] = []

    def on_load(message: Message, _: Any) -> None:
        built.append(message)

    event.listen(Message, "load", on_load)
    try:
        page = await client.get(f"{API}/threads/{thread['id']}/messages", headers=bob.headers)
    finally:
        event.remove(Message, "load", on_load)
    assert page.status_code == 200
    assert [[f["id"] for f in m["attachments"]] for m in page.json()["items"]] == [[], [file_id]]
    assert built == []  # annotate_rows: no entity built for a page (CrudRouter's plain rows)
