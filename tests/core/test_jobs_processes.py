"""Real worker processes (`python -m core.platform.jobs`) on the services leg: a cron job runs
exactly once per tick across two workers, a failing job is retried then recorded, and a worker
stopped with SIGTERM finishes or hands back its job — nothing lost, nothing run twice."""

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from core.platform.jobs import FailedJob
from tests.conftest import Leg
from tests.jobs_support import job_queue, wait_until
from tests.jobs_worker_registry import registry

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
REGISTRY = "tests.jobs_worker_registry:registry"
WORKER_ENV = {
    "JOBS_RETRY_BASE_SECONDS": "0.05",
    "JOBS_REDELIVER_AFTER_SECONDS": "25",
    "JOBS_HEARTBEAT_SECONDS": "0.2",
    "LOG_LEVEL": "WARNING",
}


@pytest.fixture
def services(leg: Leg) -> Leg:
    if not leg.is_services:
        pytest.skip("worker processes need Redis (the embedded default runs jobs in-process)")
    return leg


@pytest.fixture
async def redis(services: Leg) -> AsyncIterator[Redis]:
    client = Redis.from_url(services.redis_url or "", decode_responses=True)
    yield client
    await client.aclose()


@asynccontextmanager
async def workers(
    redis: Redis, count: int, **env: str
) -> AsyncIterator[Callable[..., subprocess.Popen[bytes]]]:
    """`count` workers, up and beating; `start(**env)` starts one more. Every worker is
    stopped with SIGTERM at the end and must exit cleanly."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "core.platform.jobs", REGISTRY],
            cwd=ROOT,
            env={**os.environ, **WORKER_ENV, **env, **extra},
        )
        started.append(process)
        return process

    try:
        for _ in range(count):
            start()
        await alive(redis, count)
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            assert process.wait(timeout=30) == 0


async def alive(redis: Redis, count: int) -> None:
    async def enough() -> bool:
        return await redis.zcard("plinth:jobs:workers") >= count

    await wait_until(enough)


async def test_a_cron_job_runs_exactly_once_per_tick_across_two_workers(redis: Redis) -> None:
    env = {"TEST_TICK_CRON": "* * * * * *", "JOBS_SCHEDULER_ENABLED": "true"}
    async with workers(redis, 2, **env):

        async def ticks() -> list[str]:
            return sorted(cast(list[str], await redis.keys("test:tick:*")))

        async def four_ticks() -> bool:
            return len(await ticks()) >= 4

        await wait_until(four_ticks)
        keys = await ticks()
        counts = [int(await redis.get(key) or 0) for key in keys[:-1]]  # the last may be running
    assert counts == [1] * len(counts)


async def test_a_failing_job_is_retried_then_recorded(redis: Redis, database: Any) -> None:
    async with workers(redis, 2), job_queue(registry, database) as queue:
        await queue.enqueue("proc.fail")

        async def recorded() -> bool:
            async with database.session() as session:
                return await session.scalar(select(FailedJob)) is not None

        await wait_until(recorded)
    async with database.session() as session:
        [row] = (await session.execute(select(FailedJob))).scalars().all()
    assert (row.job, row.attempts, row.error) == (
        "proc.fail",
        2,
        "RuntimeError: this job always fails",
    )
    attempts = cast(list[str], await redis.lrange("test:fail:attempts", 0, -1))
    assert [entry.split(":")[1] for entry in attempts] == ["1", "2"]


async def test_sigterm_finishes_or_hands_back_the_running_job(redis: Redis, database: Any) -> None:
    async def count(key: str) -> int:
        return int(await redis.get(key) or 0)

    async def started(key: str, times: int) -> None:
        async def enough() -> bool:
            return await redis.llen(f"test:hold:{key}:started") >= times

        await wait_until(enough)

    async with workers(redis, 0) as start, job_queue(registry, database) as queue:
        impatient = start(JOBS_SHUTDOWN_GRACE_SECONDS="0")
        await queue.enqueue("proc.hold", key="a")
        await started("a", 1)
        impatient.send_signal(signal.SIGTERM)  # no grace: the job is handed back unfinished
        assert impatient.wait(timeout=30) == 0
        assert await count("test:hold:a:done") == 0

        patient = start(JOBS_SHUTDOWN_GRACE_SECONDS="30")
        await started("a", 2)  # the handed-back job runs again, on the other worker
        await redis.set("test:hold:a:release", 1)
        await queue.enqueue("proc.hold", key="b")
        await started("b", 1)
        patient.send_signal(signal.SIGTERM)  # within its grace: the running job finishes
        await redis.set("test:hold:b:release", 1)
        assert patient.wait(timeout=30) == 0
        pids = await redis.lrange("test:hold:a:started", 0, -1)
    assert pids == [str(impatient.pid), str(patient.pid)]
    assert (await count("test:hold:a:done"), await count("test:hold:b:done")) == (1, 1)
    assert await redis.xlen("plinth:jobs") == 0  # nothing left waiting or unacknowledged
    async with database.session() as session:
        assert (await session.execute(select(FailedJob))).scalars().all() == []
