"""Job-system helpers for tests: a queue on this leg, run until settled, and test-only jobs."""

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from configs import Settings, get_settings
from configs.jobs import JobSettings
from core.platform.jobs import JobQueue, JobRegistry
from core.platform.jobs.worker import Worker
from core.platform.redis import create_redis

FAST_RETRIES = {"retry_base_seconds": 0.01, "retry_max_seconds": 0.05, "max_attempts": 3}


def job_settings(**jobs: Any) -> Settings:
    """This leg's settings with JOBS_* overridden (fast retries unless told otherwise)."""
    values = {**get_settings().jobs.model_dump(), **FAST_RETRIES, **jobs}
    return dataclasses.replace(get_settings(), jobs=JobSettings(**values))


async def wait_until(condition: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    """Poll `condition` until it holds; fail after `seconds` (a bound, not a guess)."""
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds}s")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def job_queue(
    registry: JobRegistry, database: Any, settings: Settings | None = None
) -> AsyncIterator[JobQueue]:
    """A started queue on this leg (Redis stream on services, in-process when embedded)."""
    settings = settings or job_settings()
    redis = create_redis(settings.redis, timeout_seconds=5) if settings.redis.url else None
    queue = JobQueue(registry, settings, database, redis)
    await queue.startup()
    try:
        yield queue
    finally:
        await queue.shutdown()
        if redis is not None:
            await redis.aclose()


@asynccontextmanager
async def working(queue: JobQueue) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Run `queue`'s jobs in this process; yields `settle()`, which waits until none is left."""
    if queue.in_process:
        yield queue.drain
        return
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(queue).run(stop))

    async def settle() -> None:
        await wait_until(lambda: _empty(queue))

    try:
        yield settle
    finally:
        stop.set()
        await task


async def _empty(queue: JobQueue) -> bool:
    return await queue.depth() == 0
