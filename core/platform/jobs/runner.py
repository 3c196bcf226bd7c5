"""Running one delivery of a job: attempts with exponential backoff, a timeout per attempt,
metrics, and a `failed_jobs` row when the last attempt fails.

Errors never escape, so the message is acknowledged once this returns. A cancellation (the
worker is stopping and the grace period is over) does escape: `JobQueue` hands the message
back to the queue instead.
"""

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

from configs.jobs import JobSettings
from core.audit import acting_as
from core.platform.jobs.metrics import JOB_DURATION, JOB_FAILURES, JOB_RUNS
from core.platform.jobs.models import MAX_ERROR_LENGTH, FailedJob
from core.platform.jobs.registry import Job, JobContext
from core.service import unit_of_work

logger = logging.getLogger("plinth.jobs")


def backoff_seconds(attempt: int, settings: JobSettings) -> float:
    """The wait after failed attempt number `attempt`: base * 2^(attempt-1), capped."""
    return float(min(settings.retry_base_seconds * 2 ** (attempt - 1), settings.retry_max_seconds))


def worst_case_seconds(job: Job, settings: JobSettings) -> float:
    """How long one delivery of `job` can take: every attempt timing out, plus the backoffs."""
    attempts = job.max_attempts or settings.max_attempts
    timeout = job.timeout_seconds or settings.timeout_seconds
    waits = sum(backoff_seconds(n, settings) for n in range(1, attempts))
    return attempts * timeout + waits


def describe(exc: BaseException) -> str:
    """`TypeName: message`, bounded for the failed_jobs table."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:MAX_ERROR_LENGTH]


async def record_failure(
    ctx: JobContext, kwargs: dict[str, Any], error: str, attempts: int, worker: str
) -> None:
    """Keep the job for admins (GET /api/v1/admin/jobs/failed); logged if that fails too."""
    JOB_FAILURES.labels(job=ctx.job).inc()
    logger.error("job %s (%s) failed after %d attempts: %s", ctx.job, ctx.task_id, attempts, error)
    row = FailedJob(
        job=ctx.job,
        task_id=ctx.task_id,
        arguments=kwargs,
        error=error,
        attempts=attempts,
        worker=worker,
    )
    try:
        async with unit_of_work(ctx.database) as session:
            session.add(row)
    except Exception:
        logger.exception("could not record the failed job %s (%s)", ctx.job, ctx.task_id)


async def _attempt(job: Job, ctx: JobContext, kwargs: dict[str, Any], seconds: float) -> None:
    started = time.perf_counter()
    outcome = "error"
    try:
        async with asyncio.timeout(seconds):
            with acting_as(job.name):  # audited changes without a caller: `system:<job>`
                await job(ctx, **kwargs)
        outcome = "ok"
    except TimeoutError:
        outcome = "timeout"
        raise
    finally:
        JOB_RUNS.labels(job=job.name, outcome=outcome).inc()
        JOB_DURATION.labels(job=job.name).observe(time.perf_counter() - started)


async def run_delivery(
    job: Job, ctx: JobContext, kwargs: dict[str, Any], settings: JobSettings, worker: str
) -> bool:
    """Run `job` until it succeeds or its attempts are used up; True when it succeeded."""
    attempts = job.max_attempts or settings.max_attempts
    timeout = job.timeout_seconds or settings.timeout_seconds
    for attempt in range(1, attempts + 1):
        try:
            await _attempt(job, replace(ctx, attempt=attempt), kwargs, timeout)
        except Exception as exc:
            if attempt == attempts:
                await record_failure(ctx, kwargs, describe(exc), attempt, worker)
                return False
            delay = backoff_seconds(attempt, settings)
            logger.warning(
                "job %s attempt %d/%d failed (%s); retrying in %.1fs",
                job.name,
                attempt,
                attempts,
                describe(exc),
                delay,
            )
            await asyncio.sleep(delay)
        else:
            return True
    return False
