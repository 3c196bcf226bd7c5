"""Behind PgBouncer in transaction pooling mode (DATABASE_POOLER=transaction): the API's
writes, read-only routes, the authentication lookup, real-time event writes and the job
store all work while client connections take turns on fewer server connections; migrations
run on DATABASE_MIGRATION_URL. Services leg only (a real pgbouncer from Debian)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError

from app.users.models import User
from core.db import Database, create_engine
from core.platform.jobs import FailedJob, JobContext, JobRegistry
from tests.app.messenger.support import new_thread, send
from tests.conftest import Leg, client_for, running_app
from tests.helpers import API, actor
from tests.jobs_support import job_queue, working
from tests.servers import PgBouncerServer

registry = JobRegistry()


@registry.job("test.pgbouncer.fail", max_attempts=2)
async def fail(ctx: JobContext, reason: str) -> None:
    raise RuntimeError(reason)


def through(pgbouncer: PgBouncerServer, leg: Leg) -> str:
    assert leg.postgres is not None
    return leg.database_url.replace(f":{leg.postgres.port}/", f":{pgbouncer.port}/")


@pytest.fixture
async def pooled_app(pgbouncer: PgBouncerServer, leg: Leg) -> AsyncIterator[FastAPI]:
    env = {
        "DATABASE_URL": through(pgbouncer, leg),
        "DATABASE_POOLER": "transaction",
    }
    async with running_app(**env) as app:
        yield app


@pytest.fixture
async def pooled(pgbouncer: PgBouncerServer, leg: Leg) -> AsyncIterator[Database]:
    engine = create_engine(through(pgbouncer, leg), pool_size=20, pooler="transaction")
    database = Database(engine)
    yield database
    await database.dispose()


async def test_the_messenger_works_through_pgbouncer(pooled_app: FastAPI, database: Any) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    async with client_for(pooled_app) as client:
        thread = await new_thread(client, alice, bob)
        sent = [await send(client, bob, thread["id"], f"message {n}") for n in range(3)]
        url = f"{API}/threads/{thread['id']}"
        edited = await client.patch(
            f"{API}/messages/{sent[0]['id']}", json={"body": "edited"}, headers=bob.headers
        )
        assert edited.status_code == 200, edited.text

        history = await client.get(f"{url}/messages", headers=alice.headers)
        events = await client.get(f"{url}/events", headers=alice.headers)
        one = await client.get(url, headers=alice.headers)
        me = await client.get(f"{API}/users/me", headers=alice.headers)

    assert history.status_code == 200, history.text
    assert [m["body"] for m in history.json()["items"]] == ["message 2", "message 1", "edited"]
    assert events.status_code == 200, events.text
    assert len(events.json()["items"]) >= 4  # the thread, three messages, the edit
    assert one.json()["last_message_at"] == sent[-1]["created_at"]
    assert me.json()["email"] == "alice@example.com"


async def test_concurrent_requests_share_few_server_connections(
    pooled_app: FastAPI, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    async with client_for(pooled_app) as client:
        thread = await new_thread(client, alice, bob)
        url = f"{API}/threads/{thread['id']}"

        async def one_round(n: int) -> list[int]:
            author = (alice, bob)[n % 2]
            posted = await client.post(
                f"{url}/messages", json={"body": f"m{n}"}, headers=author.headers
            )
            reads = [
                await client.get(f"{url}/messages", headers=author.headers),
                await client.get(f"{API}/users/me", headers=author.headers),
                await client.get(f"{url}/events", headers=author.headers),
            ]
            return [posted.status_code, *(r.status_code for r in reads)]

        statuses = await asyncio.gather(*(one_round(n) for n in range(30)))
        history = await client.get(f"{url}/messages?limit=50", headers=alice.headers)
    assert all(s == [201, 200, 200, 200] for s in statuses), statuses
    assert len(history.json()["items"]) == 30


async def test_read_only_units_and_the_driver_path_through_pgbouncer(
    pooled: Database, database: Any
) -> None:
    await actor(database, "alice")
    by_email: Any = select(User.id, User.email).where(User.email == "alice@example.com")

    async def read(n: int) -> tuple[Any, Any, Any]:
        async with pooled.session(read_only=True) as session:
            orm = (await session.execute(select(User).where(User.email.like(f"%{n % 3}%")))).all()
            query = text("SELECT CAST(:n AS int) + count(*) FROM users")
            count = (await session.execute(query, {"n": n})).scalar()
        row = await pooled.fetch_one(by_email, {})
        return orm, count, row

    results = await asyncio.gather(*(read(n) for n in range(60)))
    assert [count for _, count, _ in results] == [n + 1 for n in range(60)]
    assert all(row is not None and row.email == "alice@example.com" for *_, row in results)


async def test_a_statement_seen_before_is_not_described_again(
    pooled: Database, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind the pooler a connection describes a statement (a Parse/Describe round trip) the
    first time only; later runs are one Parse/Bind/Execute round trip, through the ORM and the
    authentication lookup alike. Turning SQLAlchemy's statement cache off, or running the lookup
    through asyncpg's own (off) cache, describes it on every run."""
    await actor(database, "alice")
    described: list[str] = []
    get_statement = vars(asyncpg.Connection)["_get_statement"]  # every statement asyncpg prepares

    async def recording(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        described.append(query)
        return await get_statement(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "_get_statement", recording)
    lookup: Any = select(User.id).where(User.email == bindparam("email"))
    after_first_run: list[str] = []
    for _ in range(5):  # one at a time: every run gets the same pooled connection
        async with pooled.session(read_only=True) as session:
            orm = await session.scalar(select(User.email).where(User.email.like("alice%")))
        row = await pooled.fetch_one(lookup, {"email": "alice@example.com"})
        assert orm == "alice@example.com" and row is not None
        after_first_run = after_first_run or list(described)
    assert described == after_first_run
    assert sum("FROM users" in query for query in described) == 2


async def test_the_job_store_records_failures_through_pgbouncer(pooled: Database) -> None:
    async with job_queue(registry, pooled) as queue, working(queue) as settle:
        await queue.enqueue(fail, reason="through the pooler")
        await settle()
    async with pooled.session() as session:
        failed = (await session.execute(select(FailedJob))).scalars().all()
    assert [(f.job, f.error.splitlines()[-1]) for f in failed] == [
        ("test.pgbouncer.fail", "RuntimeError: through the pooler")
    ]


async def test_without_the_pooler_setting_prepared_statements_collide(
    pgbouncer: PgBouncerServer, leg: Leg
) -> None:
    """The control: the same reads with the default statement caches fail behind PgBouncer,
    so the tests above would notice a pooler setting that did nothing."""
    database = Database(create_engine(through(pgbouncer, leg), pool_size=20))

    async def read(n: int) -> None:
        async with database.session(read_only=True) as session:
            for k in range(4):
                await session.execute(text(f"SELECT {k} + :n"), {"n": n})

    try:
        outcomes = await asyncio.gather(*(read(n) for n in range(40)), return_exceptions=True)
    finally:
        await database.dispose()
    errors = [o for o in outcomes if isinstance(o, DBAPIError)]
    assert errors, "named prepared statements should have collided across server connections"
    assert "prepared statement" in str(errors[0])


async def test_migrations_go_to_the_migration_url(pgbouncer: PgBouncerServer, leg: Leg) -> None:
    env = {
        "DATABASE_URL": through(pgbouncer, leg),
        "DATABASE_POOLER": "transaction",
        "DATABASE_MIGRATION_URL": leg.database_url.rsplit("/", 1)[0] + "/no_such_database",
        "DATABASE_AUTO_MIGRATE": "true",
    }
    with pytest.raises(Exception, match="no_such_database"):
        async with running_app(**env):
            pass
