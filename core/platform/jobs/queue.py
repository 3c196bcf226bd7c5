"""`JobQueue`: enqueue jobs by name and deliver them to their functions, on Redis or in-process.

One code path for both: a job is always sent through a taskiq broker and always runs through
`JobQueue.deliver` → `run_delivery`. With REDIS_URL the broker is a Redis stream read by the
worker processes; without it (the embedded default) taskiq's in-memory broker runs the job as a
task of the API process itself.

The broker is built and opened on first use — the first `enqueue`, or `startup()` in a worker,
which listens — so an API process that has not sent a job has not imported taskiq (nor the
aiohttp that taskiq imports: ~11 MB of a worker's memory together).
"""

import asyncio
import contextlib
import logging
import os
import socket
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from configs import Settings
from core.db import Database
from core.platform.jobs.registry import Job, JobContext, JobRegistry
from core.platform.jobs.runner import record_failure, run_delivery, worst_case_seconds
from core.platform.jobs.store import JobStore, MemoryJobStore, RedisJobStore

if TYPE_CHECKING:
    from taskiq import AsyncBroker, Context
    from taskiq.decor import AsyncTaskiqDecoratedTask

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
        self.tasks: dict[str, AsyncTaskiqDecoratedTask[Any, Any]] = {}
        self._broker: AsyncBroker | None = None
        self._started = False
        self._opening = asyncio.Lock()
        self._check_redelivery_window()

    @property
    def in_process(self) -> bool:
        """True on the embedded default: jobs run in this process, no worker needed."""
        return self.redis is None

    @property
    def broker(self) -> "AsyncBroker":
        """The taskiq broker, built on first use with one task per job (not opened yet)."""
        if self._broker is None:
            self._broker = self._new_broker()
            self.tasks = {name: self._register(job) for name, job in self.registry.jobs.items()}
        return self._broker

    def _new_broker(self) -> "AsyncBroker":
        from taskiq import InMemoryBroker

        from core.platform.jobs.broker import RedisJobBroker

        jobs = self.settings.jobs
        if self.redis is None:
            return InMemoryBroker(max_async_tasks=jobs.concurrency, propagate_exceptions=False)
        assert self.settings.redis.url is not None
        return RedisJobBroker(
            self.settings.redis.url,
            client=self.redis,
            replicas=1 if self.settings.redis.sentinels else 0,
            queue_name=jobs.queue_name,
            consumer_group_name=CONSUMER_GROUP,
            consumer_name=self.worker,
            consumer_id="0",
            xread_block=READ_BLOCK_MS,
            xread_count=1,
            idle_timeout=int(jobs.redeliver_after_seconds * 1000),
        )

    def _register(self, job: Job) -> "AsyncTaskiqDecoratedTask[Any, Any]":
        from taskiq import Context, TaskiqDepends  # taskiq reads the annotation at run time

        # Named so that no job argument replaces it (a job may take `context=`).
        async def receive(
            plinth_taskiq_context: Annotated[Context, TaskiqDepends()], **kwargs: Any
        ) -> None:
            await self._receive(job, plinth_taskiq_context, kwargs)

        return self.broker.register_task(receive, task_name=job.name)

    async def _receive(self, job: Job, context: "Context", kwargs: dict[str, Any]) -> None:
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

    async def _hand_back(self, context: "Context") -> None:
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
        """Open the broker now (a worker, which listens); otherwise the first `enqueue` does.
        On Redis, opening declares the consumer group, before any job is sent."""
        async with self._opening:
            if not self._started:
                await self.broker.startup()
                self._started = True

    async def shutdown(self, grace_seconds: float = 0.0) -> None:
        """Let in-process jobs finish for up to `grace_seconds`, then close the broker."""
        if not self._started:
            return
        if self.in_process and grace_seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drain(), grace_seconds)
        await self.broker.shutdown()
        self._started = False

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
        if name not in self.registry.jobs:
            raise KeyError(f"unknown job {name!r}: register it in the job registry")
        await self.startup()
        kicker = self.tasks[name].kicker()
        if labels:
            kicker = kicker.with_labels(**labels)
        if task_id:
            kicker = kicker.with_task_id(task_id)
        sent = await kicker.kiq(**kwargs)
        return sent.task_id

    async def drain(self) -> None:
        """Wait until every in-process job sent so far has finished (tests, shutdown)."""
        if self.in_process and self._broker is not None:
            from taskiq import InMemoryBroker  # already imported with the broker

            assert isinstance(self._broker, InMemoryBroker)
            await self._broker.wait_all()

    async def depth(self) -> int:
        """Jobs waiting or running: the stream's length, acknowledged entries being deleted
        (`RedisJobBroker`); 0 in-process, where nothing waits."""
        if self.redis is None:
            return 0
        return int(await self.redis.xlen(self.settings.jobs.queue_name))

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
