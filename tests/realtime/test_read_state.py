"""Read state, unread counts, the kept event log and after-commit publishing, in process (both
legs): the HTTP API through `httpx.ASGITransport`, the hub's real broker (Redis or in process)."""

import asyncio
import contextlib
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.messenger.events import THREADS
from app.messenger.models import Message
from app.messenger.schemas import UNREAD_CAP
from core.platform.realtime import emit
from core.service import unit_of_work
from tests.helpers import bearer, create_user

API = "/api/v1"


async def _thread(client: httpx.AsyncClient, database: Any) -> tuple[Any, Any, Any, str]:
    alice = await create_user(database, "alice@example.com")
    bob = await create_user(database, "bob@example.com")
    carol = await create_user(database, "carol@example.com")
    answer = await client.post(
        f"{API}/threads",
        json={"title": "t", "participant_ids": [str(bob.id)]},
        headers=bearer(alice),
    )
    return alice, bob, carol, answer.json()["id"]


async def _unread(client: httpx.AsyncClient, user: Any) -> dict[str, int]:
    page = (await client.get(f"{API}/threads", headers=bearer(user))).json()
    return {t["id"]: t["unread_count"] for t in page["items"]}


async def test_unread_counts_follow_the_read_marker(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob, _, thread = await _thread(client, database)
    posted = [
        (await client.post(f"{API}/threads/{thread}/messages", json={"body": f"m{n}"},
                           headers=bearer(alice))).json()
        for n in range(3)
    ]  # fmt: skip
    assert await _unread(client, bob) == {thread: 3}
    assert await _unread(client, alice) == {thread: 0}  # one's own messages are read
    marked = await client.post(
        f"{API}/threads/{thread}/read", json={"seq": posted[0]["seq"]}, headers=bearer(bob)
    )
    assert marked.json() == {"thread_id": thread, "last_read_seq": posted[0]["seq"],
                             "unread_count": 2}  # fmt: skip
    await client.delete(f"{API}/messages/{posted[1]['id']}", headers=bearer(alice))
    assert await _unread(client, bob) == {thread: 1}  # deleted messages are not unread
    everything = await client.post(f"{API}/threads/{thread}/read", headers=bearer(bob))
    assert everything.json()["unread_count"] == 0
    back = await client.post(f"{API}/threads/{thread}/read", json={"seq": 1}, headers=bearer(bob))
    assert back.json()["last_read_seq"] == everything.json()["last_read_seq"]  # never moves back


async def test_unread_counts_stop_at_the_cap(client: httpx.AsyncClient, database: Any) -> None:
    alice, bob, _, thread = await _thread(client, database)
    async with database.session() as session:
        session.add_all(
            Message(thread_id=uuid.UUID(thread), author_id=alice.id, body="x", seq=10 + n)
            for n in range(UNREAD_CAP + 5)
        )
        await session.commit()
    assert await _unread(client, bob) == {thread: UNREAD_CAP}


async def test_non_members_get_404_and_bad_input_422(
    client: httpx.AsyncClient, database: Any
) -> None:
    _, _, carol, thread = await _thread(client, database)
    for method, path in (("POST", "read"), ("GET", "events")):
        answer = await client.request(
            method, f"{API}/threads/{thread}/{path}", headers=bearer(carol)
        )
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
    bad = await client.post(f"{API}/threads/{thread}/read", json={"seq": -1}, headers=bearer(carol))
    assert bad.status_code == 422
    ticket = await client.post(
        f"{API}/realtime/tickets", json={"resume": {"x": 1}}, headers=bearer(carol)
    )
    assert ticket.status_code == 422
    assert ticket.headers["content-type"] == "application/problem+json"


async def test_events_start_at_the_callers_own_participation(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, _, carol, thread = await _thread(client, database)
    await client.post(f"{API}/threads/{thread}/messages", json={"body": "before carol"},
                      headers=bearer(alice))  # fmt: skip
    await client.post(f"{API}/threads/{thread}/participants", json={"user_ids": [str(carol.id)]},
                      headers=bearer(alice))  # fmt: skip
    page = (await client.get(f"{API}/threads/{thread}/events", headers=bearer(carol))).json()
    assert [e["type"] for e in page["items"]] == ["participant.added"]
    full = (await client.get(f"{API}/threads/{thread}/events", headers=bearer(alice))).json()
    assert [e["type"] for e in full["items"]] == [
        "thread.created", "message.created", "participant.added"
    ]  # fmt: skip
    assert [e["seq"] for e in full["items"]] == [1, 2, 3] and full["event_seq"] == 3


async def test_a_rolled_back_write_publishes_nothing(app: FastAPI, database: Any) -> None:
    alice = await create_user(database, "alice@example.com")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        thread = uuid.UUID(
            (
                await client.post(f"{API}/threads", json={"title": "t"}, headers=bearer(alice))
            ).json()["id"]
        )
    hub, ready = app.state.realtime, asyncio.Event()
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def listen() -> None:
        async for message in hub.broker.subscribe(ready):
            received.put_nowait(message)

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 5)
    with pytest.raises(RuntimeError):
        async with unit_of_work(app.state.database) as session:
            await emit(session, THREADS(thread), "message.created", {"n": "rolled"})
            raise RuntimeError("the write fails after the event was recorded")
    async with unit_of_work(app.state.database) as session:
        await emit(session, THREADS(thread), "message.created", {"n": "kept"})
    first = await asyncio.wait_for(received.get(), 5)
    assert b'"kept"' in first and b'"seq":2' in first  # the rolled-back id was never taken
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener
