"""Jobs run by the real worker processes of tests/core/test_jobs_processes.py; each records
what it did in Redis, where the test reads it."""

import asyncio
import os

from core.platform.jobs import JobContext, JobRegistry

registry = JobRegistry()


@registry.job("proc.tick", timeout_seconds=1)
async def tick(ctx: JobContext) -> None:
    assert ctx.scheduled_for is not None
    await ctx.redis.incr(f"test:tick:{ctx.scheduled_for.isoformat()}")


@registry.job("proc.fail", max_attempts=2, timeout_seconds=1)
async def fail(ctx: JobContext) -> None:
    await ctx.redis.rpush("test:fail:attempts", f"{os.getpid()}:{ctx.attempt}")
    raise RuntimeError("this job always fails")


@registry.job("proc.hold", max_attempts=1, timeout_seconds=20)
async def hold(ctx: JobContext, key: str) -> None:
    """Start, wait until the test releases `key`, then finish (counted once per completion)."""
    await ctx.redis.rpush(f"test:hold:{key}:started", os.getpid())
    while not await ctx.redis.exists(f"test:hold:{key}:release"):  # noqa: ASYNC110 - set by another process
        await asyncio.sleep(0.02)
    await ctx.redis.incr(f"test:hold:{key}:done")


registry.schedule(tick, cron=lambda settings: os.environ.get("TEST_TICK_CRON", ""))
