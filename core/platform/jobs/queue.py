"""`JobQueue`: enqueue jobs by name and deliver them to their functions, on Redis or in-process.

One code path for both: a job is always sent through a taskiq broker and always runs through
`JobQueue.deliver` → `run_delivery`. With REDIS_URL the broker is a Redis stream read by the
worker processes; without it (the embedded default) taskiq's in-memory broker runs the job as a
task of the API process itself.
"""

import asyncio
import contextlib
import logging
import os
import socket
from datetime import datetime
from typing import Annotated, Any

from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq.decor import AsyncTaskiqDecoratedTask

from configs import Settings
from core.db import Database
from core.platform.jobs.broker import RedisJobBroker
from core.platform.jobs.registry import Job, JobContext, JobRegistry
from core.platform.jobs.runner import record_failure, run_delivery, worst_case_seconds
from core.platform.jobs.store import JobStore, MemoryJobStore, RedisJobStore

logger = logging.getLogger("plinth.jobs")

CONSUMER_GROUP = "plinth-workers"
TICK_LABEL = "plinth_tick"
READ_BLOCK_MS = 1000


_current: "JobQueue | None" = None


def current_queue() -> "JobQueue":
    """The queue of this process (set by the app's lifespan or the worker)."""
    if _current is None:
        raise RuntimeError("the job queue is not running: start the app (or the worker) first")
    return _current


def set_current_queue(queue: "JobQueue | None") -> None:
    """Make `queue` the one `current_queue()` and `enqueue_after_commit` use."""
    global _current
    _current = queue


def worker_name() -> str:
    """`host:pid`: unique per live process, readable in logs and failed_jobs."""
    return f"{socket.gethostname()}:{os.getpid()}"


class JobQueue:
    """Sends jobs to the broker and runs the ones delivered to this process."""

    def __init__(
        self,
        registry: JobRegistry,
        settings: Settings,
        database: Database,
        redis: Any = None,
        *,
        worker: str | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.database = database
        self.redis = redis
        self.worker = worker or worker_name()
        self.store: JobStore = RedisJobStore(redis) if redis is not None else MemoryJobStore()
        self.broker = self._broker()
        self.tasks = {name: self._register(job) for name, job in registry.jobs.items()}
        self._check_redelivery_window()

    @property
    def in_process(self) -> bool:
        """True on the embedded default: jobs run in this process, no worker needed."""
        return self.redis is None

    def _broker(self) -> AsyncBroker:
        jobs = self.settings.jobs
        if self.redis is None:
            return InMemoryBroker(max_async_tasks=jobs.concurrency, propagate_exceptions=False)
        assert self.settings.redis.url is not None
        return RedisJobBroker(
            self.settings.redis.url,
            queue_name=jobs.queue_name,
            consumer_group_name=CONSUMER_GROUP,
            consumer_name=self.worker,
            consumer_id="0",
            xread_block=READ_BLOCK_MS,
            xread_count=1,
            idle_timeout=int(jobs.redeliver_after_seconds * 1000),
        )

    def _register(self, job: Job) -> AsyncTaskiqDecoratedTask[Any, Any]:
        async def receive(context: Annotated[Context, TaskiqDepends()], **kwargs: Any) -> None:
            await self._receive(job, context, kwargs)

        return self.broker.register_task(receive, task_name=job.name)

    async def _receive(self, job: Job, context: Context, kwargs: dict[str, Any]) -> None:
        """Deliver, then acknowledge (workers acknowledge by hand: taskiq would also
        acknowledge a cancelled job). Cancelled — the worker is stopping — hand it back."""
        message = context.message
        try:
            await self.deliver(job, message.task_id, message.labels, kwargs)
        except asyncio.CancelledError:
            if context.is_ackable:
                await asyncio.shield(self._hand_back(context))
            raise
        if context.is_ackable:
            await context.ack()

    async def _hand_back(self, context: Context) -> None:
        """Put the message back on the queue for another worker, then drop this delivery. If
        that fails the message stays unacknowledged and is re-claimed after
        JOBS_REDELIVER_AFTER_SECONDS."""
        try:
            await self.broker.kick(self.broker.formatter.dumps(context.message))
            await context.ack()
        except Exception as exc:
            logger.warning("could not hand back %s: %s", context.message.task_id, exc)
            return
        logger.info("handed back %s (%s)", context.message.task_name, context.message.task_id)

    def _check_redelivery_window(self) -> None:
        window = self.settings.jobs.redeliver_after_seconds
        for job in self.registry.jobs.values():
            if worst_case_seconds(job, self.settings.jobs) >= window:
                raise ValueError(
                    f"job {job.name!r} can run longer than JOBS_REDELIVER_AFTER_SECONDS "
                    f"({window:g}s) and would be delivered twice: lower its attempts or timeout"
                )

    async def startup(self) -> None:
        """Open the broker (declares the consumer group on Redis)."""
        await self.broker.startup()

    async def shutdown(self, grace_seconds: float = 0.0) -> None:
        """Let in-process jobs finish for up to `grace_seconds`, then close the broker."""
        if isinstance(self.broker, InMemoryBroker) and grace_seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.broker.wait_all(), grace_seconds)
        await self.broker.shutdown()

    async def enqueue(
        self,
        job: Job | str,
        /,
        *,
        labels: dict[str, str] | None = None,
        task_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Send `job` with JSON-serialisable `kwargs`; returns its task id (`task_id`, when
        given, e.g. to answer with it before the send happens after the commit)."""
        name = job if isinstance(job, str) else job.name
        if name not in self.tasks:
            raise KeyError(f"unknown job {name!r}: register it in the job registry")
        kicker = self.tasks[name].kicker()
        if labels:
            kicker = kicker.with_labels(**labels)
        if task_id:
            kicker = kicker.with_task_id(task_id)
        sent = await kicker.kiq(**kwargs)
        return sent.task_id

    async def drain(self) -> None:
        """Wait until every in-process job sent so far has finished (tests, shutdown)."""
        if isinstance(self.broker, InMemoryBroker):
            await self.broker.wait_all()

    async def depth(self) -> int:
        """Jobs waiting or running (0 in-process, where nothing waits)."""
        if isinstance(self.broker, RedisJobBroker):
            return await self.broker.depth()
        return 0

    async def workers_alive(self) -> int:
        """Workers with a current heartbeat (this process, when jobs run in-process)."""
        if self.in_process:
            return 1
        return await self.store.workers_alive(self.settings.jobs.heartbeat_seconds * 3)

    async def deliver(
        self, job: Job, task_id: str, labels: dict[str, Any], kwargs: dict[str, Any]
    ) -> None:
        """Run one delivery of a message; give up (recorded) after JOBS_MAX_DELIVERIES."""
        ctx = self._context(job, task_id, labels)
        deliveries = await self._count_delivery(task_id)
        limit = self.settings.jobs.max_deliveries
        if deliveries > limit:
            error = f"delivered {deliveries} times without finishing (worker stopped or died)"
            await record_failure(ctx, kwargs, error, 0, self.worker)
        else:
            await run_delivery(job, ctx, kwargs, self.settings.jobs, self.worker)
        with contextlib.suppress(Exception):
            await self.store.forget_delivery(task_id)

    def _context(self, job: Job, task_id: str, labels: dict[str, Any]) -> JobContext:
        tick = labels.get(TICK_LABEL)
        return JobContext(
            database=self.database,
            redis=self.redis,
            settings=self.settings,
            job=job.name,
            task_id=task_id,
            scheduled_for=datetime.fromisoformat(tick) if tick else None,
            guard=self.store,
        )

    async def _count_delivery(self, task_id: str) -> int:
        ttl = self.settings.jobs.redeliver_after_seconds * (self.settings.jobs.max_deliveries + 2)
        try:
            return await self.store.count_delivery(task_id, ttl)
        except Exception as exc:  # Redis hiccup: run it rather than lose it
            logger.warning("could not count the delivery of %s: %s", task_id, exc)
            return 1
