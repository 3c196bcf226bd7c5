"""The worker process: `python -m core.platform.jobs app.jobs:registry`.

It reads jobs from the Redis stream (JOBS_CONCURRENCY at a time), runs the cron scheduler and
writes a heartbeat every JOBS_HEARTBEAT_SECONDS. On SIGTERM or SIGINT it stops taking jobs,
lets the running ones finish for up to JOBS_SHUTDOWN_GRACE_SECONDS, and hands the rest back to
the queue (cancelled, re-sent, then acknowledged) for another worker. A worker that dies
without that (SIGKILL, OOM) leaves its jobs unacknowledged: another worker re-claims them after
JOBS_REDELIVER_AFTER_SECONDS.
Run as many as you like (`docker compose up --scale worker=N`).
"""

import asyncio
import contextlib
import importlib
import logging
import logging.config
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from configs import Settings, get_settings
from core.db import Database, engine_from_settings
from core.platform.jobs.metrics import QUEUE_DEPTH, WORKERS_ALIVE
from core.platform.jobs.queue import JobQueue
from core.platform.jobs.registry import JobRegistry
from core.platform.jobs.scheduler import Scheduler
from core.platform.logging import logging_config
from core.platform.metrics import metrics_port_server
from core.platform.redis import create_redis

if TYPE_CHECKING:
    from taskiq.receiver import Receiver

logger = logging.getLogger("plinth.jobs.worker")

REDIS_TIMEOUT_SECONDS = 5.0


class Worker:
    """Consumes `queue`, runs its schedules and keeps its heartbeat, until `stop` is set."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self.scheduler = Scheduler(queue)

    async def heartbeat(self, stop: asyncio.Event) -> None:
        """Say this worker is alive and refresh the queue gauges, every JOBS_HEARTBEAT_SECONDS."""
        every = self.queue.settings.jobs.heartbeat_seconds
        while not stop.is_set():
            try:
                await self.queue.store.beat(self.queue.worker)
                QUEUE_DEPTH.set(await self.queue.depth())
                WORKERS_ALIVE.set(await self.queue.workers_alive())
            except Exception as exc:
                logger.warning("heartbeat failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
        with contextlib.suppress(Exception):
            await self.queue.store.leave(self.queue.worker)

    def _receiver(self, executor: ThreadPoolExecutor) -> "Receiver":
        # Imported here: the API's in-process worker (embedded default) beats and schedules
        # only, its jobs are run by the in-memory broker.
        from taskiq.acks import AcknowledgeType
        from taskiq.receiver import Receiver

        jobs = self.queue.settings.jobs
        return Receiver(
            self.queue.broker,
            executor=executor,
            max_async_tasks=jobs.concurrency,
            max_prefetch=0,
            propagate_exceptions=False,
            run_startup=False,
            ack_type=AcknowledgeType.MANUAL,
            wait_tasks_timeout=jobs.shutdown_grace_seconds,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop`; then finish or hand back the running jobs."""
        from core.platform.jobs.broker import RedisJobBroker  # only workers need taskiq-redis

        await self.queue.startup()  # a queue that has sent nothing yet is not open
        broker = self.queue.broker
        assert isinstance(broker, RedisJobBroker), "a worker consumes the Redis stream"
        broker.is_worker_process = True
        broker.listen_until(stop)
        logger.info("worker %s started", self.queue.worker)
        with ThreadPoolExecutor(max_workers=1) as executor:
            receiver = self._receiver(executor)
            async with asyncio.TaskGroup() as group:
                group.create_task(self.heartbeat(stop))
                if self.queue.settings.jobs.scheduler_enabled:
                    group.create_task(self.scheduler.run(stop))
                group.create_task(receiver.listen(stop))
        logger.info("worker %s stopped", self.queue.worker)


async def _cancel_leftover_jobs() -> None:
    """Jobs still running after the grace period: cancel them (unacknowledged → redelivered)."""
    leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        logger.warning("handing back %d unfinished jobs", len(leftovers))
        await asyncio.gather(*leftovers, return_exceptions=True)


async def serve(registry: JobRegistry, settings: Settings) -> None:
    """Open the database and Redis, work until SIGTERM/SIGINT, close everything."""
    assert settings.redis.url is not None
    engine = engine_from_settings(settings.database, settings.database_url)
    database = Database(engine)
    redis = create_redis(settings.redis, timeout_seconds=REDIS_TIMEOUT_SECONDS)
    queue = JobQueue(registry, settings, database, redis)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await queue.startup()
        await Worker(queue).run(stop)
        await _cancel_leftover_jobs()
    finally:
        await queue.shutdown()
        await redis.aclose()
        await database.dispose()


def load_registry(path: str) -> JobRegistry:
    """`package.module:attribute` → the JobRegistry it names."""
    module_name, _, attribute = path.partition(":")
    registry = getattr(importlib.import_module(module_name), attribute or "registry")
    if not isinstance(registry, JobRegistry):
        raise TypeError(f"{path} is not a JobRegistry")
    return registry


def main(argv: list[str] | None = None) -> int:
    """Command line: the registry to serve; settings from the environment."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m core.platform.jobs package.module:registry", file=sys.stderr)
        return 2
    settings = get_settings()
    logging.config.dictConfig(logging_config(settings))
    if settings.redis.url is None:
        print(
            "REDIS_URL is not set: on the embedded default jobs run inside the API process, "
            "no worker is needed.",
            file=sys.stderr,
        )
        return 2
    stop_metrics = metrics_port_server(
        settings.metrics.model_copy(update={"port": settings.jobs.metrics_port})
    )
    try:
        asyncio.run(serve(load_registry(args[0]), settings))
    finally:
        if stop_metrics is not None:
            stop_metrics()
    return 0
