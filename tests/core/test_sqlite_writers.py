"""SQLite across processes: a transaction that reads and then writes waits for another
process's writer instead of failing at once with "database is locked" (embedded leg only).

Two engines on one file stand for two processes (each its own SQLite connection): one writes
small transactions in a loop, as a server's request-log writer does; the other runs units of
work that read first and write after — the shape of the tests' cleanup and of most requests.
With a deferred `BEGIN` the write had to upgrade a read snapshot another connection had just
made stale, which SQLite refuses at once (no busy timeout): the realtime tests' flaky cleanup.
"""

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from core.db import Database, create_engine
from core.service import unit_of_work
from tests.conftest import Leg


@pytest.fixture
def other_process(leg: Leg) -> Database:
    if leg.is_services:
        pytest.skip("SQLite's locking; the services leg runs PostgreSQL")
    return Database(create_engine(leg.database_url))


async def test_read_then_write_waits_for_another_writer(
    other_process: Database, database: Any
) -> None:
    async with unit_of_work(database) as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS lock_probe (n INTEGER)"))
    stop = asyncio.Event()

    async def keep_writing() -> int:
        writes = 0
        while not stop.is_set():
            async with unit_of_work(other_process) as session:
                await session.execute(text("INSERT INTO lock_probe (n) VALUES (1)"))
                await asyncio.sleep(0.002)  # hold the writer lock a moment, as a flush does
            writes += 1
        return writes

    writer = asyncio.create_task(keep_writing())
    try:
        for _ in range(30):
            async with unit_of_work(database) as session:
                await session.execute(text("SELECT count(*) FROM lock_probe"))
                await asyncio.sleep(0.003)  # the other process writes meanwhile
                await session.execute(text("DELETE FROM lock_probe WHERE n = 1"))
    finally:
        stop.set()
        writes = await writer
        await other_process.dispose()
        async with unit_of_work(database) as session:
            await session.execute(text("DROP TABLE lock_probe"))
    assert writes > 0
