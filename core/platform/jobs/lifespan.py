"""Jobs in the API process: the queue on `app.state.jobs`, and on the embedded default the
scheduler and heartbeat too (jobs themselves run in-process through the in-memory broker)."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI

from core.platform.jobs.queue import JobQueue, current_queue, set_current_queue
from core.platform.jobs.registry import Job, JobRegistry

AfterCommit = Callable[[], Awaitable[None]]


class CommitHooks(Protocol):
    """A unit of work: runs hooks once its transaction commits (`core.service.UnitOfWork`)."""

    def after_commit(self, hook: AfterCommit) -> None: ...


class InUnitOfWork(Protocol):
    """A controller or service: reaches its request's unit of work."""

    @property
    def unit_of_work(self) -> CommitHooks: ...


def enqueue_after_commit(
    work: CommitHooks | InUnitOfWork, job: Job, /, *, task_id: str | None = None, **kwargs: Any
) -> None:
    """Enqueue `job` once the unit of work commits; nothing is sent if it rolls back.

    `work` is a controller or service (`self`), or a `UnitOfWork`. The queue and the job are
    looked up now, so a process without a queue, or a job missing from its registry, fails
    inside the request, not after the commit.
    """
    queue = current_queue()
    if job.name not in queue.registry.jobs:
        raise KeyError(f"job {job.name!r} is not in the job registry: register it (app/jobs.py)")
    hooks = work.unit_of_work if hasattr(work, "unit_of_work") else work

    async def send() -> None:
        await queue.enqueue(job, task_id=task_id, **kwargs)

    hooks.after_commit(send)


async def _in_process(queue: JobQueue, stop: asyncio.Event) -> None:
    from core.platform.jobs.worker import Worker  # taskiq's receiver: only where jobs run here

    worker = Worker(queue)
    tasks = [worker.heartbeat(stop)]
    if queue.settings.jobs.scheduler_enabled:
        tasks.append(worker.scheduler.run(stop))
    await asyncio.gather(*tasks)


def jobs_lifespan(registry: JobRegistry) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up: the queue (and, embedded, the in-process worker); shut-down: let running
    in-process jobs finish for up to JOBS_SHUTDOWN_GRACE_SECONDS, then close."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = app.state.settings
        # Not opened here: the first job sent opens the broker (core/platform/jobs/queue.py).
        queue = JobQueue(registry, settings, app.state.database, app.state.redis)
        app.state.jobs = queue
        set_current_queue(queue)
        stop = asyncio.Event()
        worker = asyncio.create_task(_in_process(queue, stop)) if queue.in_process else None
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                await worker
            await queue.shutdown(settings.jobs.shutdown_grace_seconds)
            set_current_queue(None)
            app.state.jobs = None

    return lifespan
