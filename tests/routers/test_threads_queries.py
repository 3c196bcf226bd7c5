"""Query shape: no N+1 on the list routes, and the history page is an index range scan."""

import json
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.messenger.models import Message, Role, Thread, ThreadParticipant
from app.users.models import User
from core.db import utcnow
from tests.app.messenger.support import (
    API,
    Actor,
    actor,
    new_thread,
)
from tests.helpers import recorded_statements


def app_statements(app: FastAPI) -> AbstractContextManager[list[tuple[str, Any]]]:
    """Every SQL statement (and its parameters) the running app sends while in the block."""
    return recorded_statements(app.state.database.engine)


async def count_statements(
    app: FastAPI, client: httpx.AsyncClient, who: Actor, url: str, limit: int
) -> int:
    with app_statements(app) as seen:
        response = await client.get(url, params={"limit": limit}, headers=who.headers)
    assert response.status_code == 200
    assert len(response.json()["items"]) == limit
    return len(seen)


async def test_listing_threads_with_participants_costs_the_same_at_any_page_size(
    app: FastAPI, client: httpx.AsyncClient, database: Any
) -> None:
    alice = await actor(database, "alice")
    async with database.session() as session:
        for i in range(55):
            # A different second participant per thread, so a per-row load cannot hide behind
            # the identity map.
            other = User(email=f"user{i}@example.com", hashed_password="-", full_name=f"U{i}")
            thread = Thread(title=f"t{i}", created_by=alice.user.id)
            session.add_all([other, thread])
            await session.flush()
            session.add_all(
                [
                    ThreadParticipant(
                        thread_id=thread.id, user_id=alice.user.id, role=Role.CREATOR
                    ),
                    ThreadParticipant(thread_id=thread.id, user_id=other.id),
                ]
            )
        await session.commit()

    url = f"{API}/threads"
    small = await count_statements(app, client, alice, url, 5)
    large = await count_statements(app, client, alice, url, 50)
    assert small == large
    page = (await client.get(url, headers=alice.headers)).json()
    assert all(len(t["participants"]) == 2 for t in page["items"])


async def test_listing_messages_costs_the_same_at_any_page_size(
    app: FastAPI, client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    async with database.session() as session:
        session.add_all(
            Message(
                thread_id=uuid.UUID(thread["id"]),
                author_id=(alice, bob)[i % 2].user.id,
                body=f"m{i}",
            )
            for i in range(55)
        )
        await session.commit()

    url = f"{API}/threads/{thread['id']}/messages"
    assert await count_statements(app, client, alice, url, 5) == await count_statements(
        app, client, alice, url, 50
    )


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def second_history_page(
    app: FastAPI, client: httpx.AsyncClient, alice: Actor, thread_id: str
) -> tuple[str, Any]:
    """The one statement (and its parameters) that reads the second page of a thread's history."""
    url = f"{API}/threads/{thread_id}/messages"
    first = await client.get(url, headers=alice.headers)
    with app_statements(app) as seen:
        second = await client.get(
            url, params={"cursor": first.json()["next_cursor"]}, headers=alice.headers
        )
    assert second.status_code == 200
    assert len(second.json()["items"]) == 50
    page_query = [(sql, params) for sql, params in seen if "FROM messages" in sql]
    assert len(page_query) == 1
    return page_query[0]


@pytest.mark.postgres_only
async def test_the_history_page_query_reads_the_thread_index(
    app: FastAPI, client: httpx.AsyncClient, database: Any, leg: Any
) -> None:
    if not leg.is_services:
        pytest.skip("EXPLAIN ANALYZE plans are read on PostgreSQL (SQLite: the test below)")
    alice = await actor(database, "alice")
    busy = await new_thread(client, alice, title="busy")
    other = await new_thread(client, alice, title="other")
    async with database.session() as session:
        for thread_id in (busy["id"], other["id"]):
            await session.execute(
                text(
                    "INSERT INTO messages (id, thread_id, author_id, body, created_at, updated_at)"
                    " SELECT gen_random_uuid(), :thread, :author, 'm' || g,"
                    " now() - g * interval '1 second', now()"
                    " FROM generate_series(1, 20000) AS g"
                ),
                {"thread": thread_id, "author": alice.user.id},
            )
        await session.commit()
        await session.execute(text("ANALYZE messages"))
        await session.commit()

    statement, parameters = await second_history_page(app, client, alice, busy["id"])
    async with database.engine.connect() as connection:
        result = await connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
        )
        raw = result.scalar_one()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = list(plan_nodes(plan))
    scans = [n for n in nodes if n.get("Relation Name") == "messages"]
    assert [n["Node Type"] for n in scans] in (["Index Scan"], ["Index Only Scan"]), nodes
    assert scans[0]["Index Name"] == "ix_messages_thread_created_live"
    assert not any(n["Node Type"] == "Sort" for n in nodes)
    assert scans[0]["Actual Rows"] <= 51


async def test_the_history_page_query_searches_the_thread_index_on_sqlite(
    app: FastAPI, client: httpx.AsyncClient, database: Any, leg: Any
) -> None:
    """SQLite's EXPLAIN QUERY PLAN: a SEARCH on the index, and no sort of its own."""
    if leg.is_services:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's (PostgreSQL: the test above)")
    alice = await actor(database, "alice")
    busy = await new_thread(client, alice, title="busy")
    async with database.session() as session:
        thread, start = uuid.UUID(busy["id"]), utcnow()
        session.add_all(
            Message(thread_id=thread, author_id=alice.user.id, body=f"m{i}",
                    created_at=start - timedelta(seconds=i))
            for i in range(120)
        )  # fmt: skip
        await session.commit()

    statement, parameters = await second_history_page(app, client, alice, busy["id"])
    async with database.engine.connect() as connection:
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        steps = [str(row[-1]) for row in result]
    searches = [step for step in steps if "messages" in step]
    assert len(searches) == 1, steps
    assert searches[0].startswith("SEARCH messages USING INDEX ix_messages_thread_created_live")
    assert not any("TEMP B-TREE" in step for step in steps), steps
