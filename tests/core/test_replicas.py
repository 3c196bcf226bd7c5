"""Read replicas (DATABASE_REPLICA_URLS) against a real streaming replica (`pg_basebackup -R`):
read-only routes read from it, writes never do; a caller reads its own write at once; a
replica too far behind is skipped; stopping it under load answers no 5xx. Services leg only."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.dbreplicas import Replica
from tests.app.messenger.support import Actor, new_thread, send
from tests.conftest import Leg, client_for, running_app
from tests.helpers import API, actor, recorded_statements, selects
from tests.servers import PostgresServer


def on_replica(leg: Leg, replica: PostgresServer) -> str:
    assert leg.postgres is not None
    return leg.database_url.replace(f":{leg.postgres.port}/", f":{replica.port}/")


def replay(replica: PostgresServer, action: str) -> None:
    replica._psql(f"SELECT pg_wal_replay_{action}()", database="plinth_test")


async def eventually(condition: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.fixture
async def app(leg: Leg, replica: PostgresServer) -> AsyncIterator[FastAPI]:
    env = {
        "DATABASE_REPLICA_URLS": on_replica(leg, replica),
        "DATABASE_REPLICA_CHECK_SECONDS": "0.1",
        "DATABASE_REPLICA_MAX_LAG_SECONDS": "30",
    }
    async with running_app(**env) as application:
        yield application


def app_reads(seen: list[tuple[str, Any]]) -> list[str]:
    """The app's own reads among `recorded_statements` (not the background replica checks)."""
    return [sql for sql in selects(seen) if "pg_last_wal_replay_lsn" not in sql]


def the_replica(app: FastAPI) -> Replica:
    replica: Replica = app.state.database.replicas.replicas[0]
    return replica


async def read_messages(
    app: FastAPI, client: httpx.AsyncClient, who: Actor, thread_id: str
) -> tuple[list[str] | None, bool]:
    """The thread's message bodies as `who` reads them (None: no such thread, as a replica
    that has not replayed its creation answers), and whether the replica served them."""
    with recorded_statements(the_replica(app).engine) as seen:
        response = await client.get(f"{API}/threads/{thread_id}/messages", headers=who.headers)
    assert response.status_code in (200, 404), response.text
    found = response.status_code == 200
    return [m["body"] for m in response.json()["items"]] if found else None, bool(app_reads(seen))


async def test_reads_go_to_the_replica_and_writes_to_the_primary(
    app: FastAPI, database: Any, replica: PostgresServer
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    async with client_for(app) as client:
        thread = await new_thread(client, alice, bob)
        with recorded_statements(the_replica(app).engine) as written:
            await send(client, alice, thread["id"], "hello")
        assert app_reads(written) == []

        async def bob_reads_it_from_the_replica() -> bool:
            bodies, from_replica = await read_messages(app, client, bob, thread["id"])
            return from_replica and bodies == ["hello"]

        await eventually(bob_reads_it_from_the_replica)
    in_recovery = replica._psql("SELECT pg_is_in_recovery()", database="plinth_test")
    assert in_recovery == "t"


async def test_a_callers_read_right_after_its_write_sees_it(
    app: FastAPI, database: Any, replica: PostgresServer
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    async with client_for(app) as client:
        thread = await new_thread(client, alice, bob)

        async def caught_up() -> bool:
            return await read_messages(app, client, bob, thread["id"]) == ([], True)

        await eventually(caught_up)
        replay(replica, "pause")
        try:
            await send(client, alice, thread["id"], "fresh")
            mine, from_replica = await read_messages(app, client, alice, thread["id"])
            assert (mine, from_replica) == (["fresh"], False)
            # Bob did not write: he reads the paused replica, which has not seen it yet.
            assert await read_messages(app, client, bob, thread["id"]) == ([], True)
        finally:
            replay(replica, "resume")

        async def replica_serves_alice_again() -> bool:
            return await read_messages(app, client, alice, thread["id"]) == (["fresh"], True)

        await eventually(replica_serves_alice_again)


async def test_a_replica_beyond_the_lag_bound_is_skipped(
    make_app: Any, leg: Leg, database: Any, replica: PostgresServer
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    env = {
        "DATABASE_REPLICA_URLS": on_replica(leg, replica),
        "DATABASE_REPLICA_CHECK_SECONDS": "0.1",
        "DATABASE_REPLICA_MAX_LAG_SECONDS": "0.5",
    }
    async with make_app(**env) as app, client_for(app) as client:
        thread = await new_thread(client, alice, bob)

        async def caught_up() -> bool:
            bodies, from_replica = await read_messages(app, client, bob, thread["id"])
            return from_replica and bodies is not None

        await eventually(caught_up)
        replay(replica, "pause")
        try:
            await send(client, alice, thread["id"], "while paused")
            await asyncio.sleep(1.0)
            assert the_replica(app).lag_seconds > 0.5
            assert await read_messages(app, client, bob, thread["id"]) == (["while paused"], False)
        finally:
            replay(replica, "resume")
        await eventually(caught_up)
        assert await read_messages(app, client, bob, thread["id"]) == (["while paused"], True)


async def test_stopping_the_replica_under_load_gives_no_5xx(
    app: FastAPI, database: Any, replica: PostgresServer
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    statuses: list[int] = []
    async with client_for(app) as client:
        thread = await new_thread(client, alice, bob)
        await send(client, alice, thread["id"], "hello")

        async def bob_reads_the_replica() -> bool:  # he did not write: until then, a 404
            return await read_messages(app, client, bob, thread["id"]) == (["hello"], True)

        await eventually(bob_reads_the_replica)
        urls = [f"{API}/threads/{thread['id']}/messages", f"{API}/threads/{thread['id']}"]
        stop = asyncio.Event()

        async def load(n: int) -> None:
            while not stop.is_set():
                response = await client.get(urls[n % 2], headers=bob.headers)
                statuses.append(response.status_code)

        workers = [asyncio.create_task(load(n)) for n in range(6)]
        try:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(replica.halt)
            down = len(statuses)
            await asyncio.sleep(1.0)
            served_while_down = len(statuses) - down
        finally:
            await asyncio.to_thread(replica.resume)
        await eventually(lambda: asyncio.sleep(0, the_replica(app).healthy))
        stop.set()
        await asyncio.gather(*workers)

    assert served_while_down > 10
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
