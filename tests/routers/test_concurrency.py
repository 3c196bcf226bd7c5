"""Atomicity under real concurrency, on PostgreSQL.

Each test holds a row lock in a transaction of its own, starts requests that need the row, waits
until PostgreSQL reports them waiting for that lock, then lets go: the transactions overlap for
certain, not by luck of scheduling. The embedded leg's gather()-based tests elsewhere run these
flows one after the other (SQLite: one pooled connection), so they check outcomes only.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select, text

from app.users.models import RefreshToken
from tests.app.users.support import refresh, tokens
from tests.conftest import Leg
from tests.helpers import create_user

T = TypeVar("T")

WAITING_FOR_A_LOCK = text(
    "SELECT query FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


@pytest.fixture(autouse=True)
def postgres_only(leg: Leg) -> None:
    if not leg.is_services:
        pytest.skip("SQLite runs one transaction at a time: nothing can overlap")


@asynccontextmanager
async def row_locked(database: Any, table: str, column: str, value: Any) -> AsyncIterator[None]:
    """Hold `FOR UPDATE` on the rows of `table` where `column` = `value` until the block ends."""
    async with database.session() as holder:
        lock = text(f"SELECT 1 FROM {table} WHERE {column} = :value FOR UPDATE")  # noqa: S608
        assert (await holder.execute(lock, {"value": value})).first() is not None
        yield
        await holder.commit()


async def waiting_queries(database: Any, count: int) -> list[str]:
    """The queries of the `count` backends that wait for a lock, once there are that many."""
    async with database.engine.connect() as observer:
        for _ in range(500):
            waiting = [str(q) for q in (await observer.execute(WAITING_FOR_A_LOCK)).scalars()]
            if len(waiting) >= count:
                return waiting
            await observer.rollback()
            await asyncio.sleep(0.02)
    raise AssertionError(f"{count} requests should be waiting for the lock, saw {waiting}")


async def while_held(
    database: Any, lock: tuple[str, str, Any], *requests: Awaitable[T]
) -> tuple[list[str], list[T]]:
    """Run `requests` while `lock` is held; return what waited for it and the responses."""
    async with row_locked(database, *lock):
        tasks = [asyncio.ensure_future(request) for request in requests]
        waiting = await waiting_queries(database, len(tasks))
        assert not any(task.done() for task in tasks)
    return waiting, list(await asyncio.gather(*tasks))


async def test_two_refreshes_with_one_token_at_once_rotate_it_once(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    pair = await tokens(client)
    async with database.session() as session:
        token_hash = (await session.scalars(select(RefreshToken.token_hash))).one()
    both = (refresh(client, pair["refresh_token"]) for _ in "ab")
    _, answers = await while_held(database, ("refresh_tokens", "token_hash", token_hash), *both)
    # The loser comes within AUTH_REFRESH_GRACE_SECONDS: refused (409), the session lives on.
    assert sorted(answer.status_code for answer in answers) == [200, 409]
