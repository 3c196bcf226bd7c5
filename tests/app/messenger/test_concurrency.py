"""The messenger under real concurrency, on PostgreSQL (the harness is in
tests/routers/test_concurrency.py)."""

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from app.messenger.models import ThreadParticipant
from tests.app.messenger.support import API, actor, new_thread, send
from tests.routers.test_concurrency import postgres_only, while_held

__all__ = ["postgres_only"]  # its autouse fixture: SQLite runs one transaction at a time


async def test_a_post_locks_its_thread_before_writing(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    lock = ("threads", "id", uuid.UUID(thread["id"]))
    posts = (send(client, who, thread["id"], who.user.email) for who in (alice, bob))
    waiting, sent = await while_held(database, lock, *posts)
    assert all("FOR UPDATE" in query for query in waiting), waiting
    after = (await client.get(f"{API}/threads/{thread['id']}", headers=bob.headers)).json()
    assert after["last_message_at"] == max(message["created_at"] for message in sent)


async def test_adding_one_user_twice_at_once_makes_one_participation(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob, carol = [await actor(database, name) for name in ("alice", "bob", "carol")]
    thread = await new_thread(client, alice, bob)
    url = f"{API}/threads/{thread['id']}/participants"
    adds = (client.post(url, json={"user_ids": [carol.id]}, headers=alice.headers) for _ in "ab")
    _, answers = await while_held(database, ("threads", "id", uuid.UUID(thread["id"])), *adds)
    assert [answer.status_code for answer in answers] == [200, 200]
    async with database.session() as session:
        live = select(func.count()).where(
            ThreadParticipant.user_id == carol.user.id, ThreadParticipant.deleted_at.is_(None)
        )
        assert await session.scalar(live) == 1
