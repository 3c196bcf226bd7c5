"""Cron schedules that run once per tick, however many workers run the scheduler.

Every worker (and the embedded API process) runs a `Scheduler`. At each tick of a schedule,
every scheduler tries to claim the key `cron:<job>:<tick time>` (SET NX on Redis); the one
that wins enqueues the job, the others skip that tick. A tick is identified by its scheduled
time, not by when a process woke up, so clock drift between workers cannot run it twice. A
tick at which no worker is running is skipped, not caught up later.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from croniter import croniter

from core.platform.jobs.metrics import SCHEDULED
from core.platform.jobs.queue import TICK_LABEL, JobQueue
from core.platform.jobs.registry import Schedule

logger = logging.getLogger("plinth.jobs.scheduler")

CLAIM_TTL_SECONDS = 24 * 3600


def next_tick(expression: str, after: datetime) -> datetime:
    """The first tick of `expression` strictly after `after` (UTC)."""
    tick: datetime = croniter(expression, after.astimezone(UTC)).get_next(datetime)
    return tick.astimezone(UTC)


def check_expression(expression: str) -> None:
    """Refuse an invalid cron expression with a message naming it."""
    if not croniter.is_valid(expression):
        raise ValueError(f"invalid cron expression {expression!r}")


class Scheduler:
    """Enqueues each active schedule of the queue's registry at its ticks, once per tick."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self.schedules = list(queue.registry.active_schedules(queue.settings))
        for _, expression in self.schedules:
            check_expression(expression)

    async def fire(self, schedule: Schedule, tick: datetime) -> bool:
        """Enqueue `schedule` for `tick` if this process wins the tick; True when it did."""
        key = f"cron:{schedule.job.name}:{int(tick.timestamp())}"
        try:
            if not await self.queue.store.claim(key, CLAIM_TTL_SECONDS):
                return False
            await self.queue.enqueue(
                schedule.job, labels={TICK_LABEL: tick.isoformat()}, **schedule.kwargs
            )
        except Exception:
            logger.exception("could not enqueue %s for %s", schedule.job.name, tick.isoformat())
            return False
        SCHEDULED.labels(job=schedule.job.name).inc()
        return True

    async def _follow(self, schedule: Schedule, expression: str, stop: asyncio.Event) -> None:
        tick = next_tick(expression, datetime.now(UTC))
        while not stop.is_set():
            wait = (tick - datetime.now(UTC)).total_seconds()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                continue
            await self.fire(schedule, tick)
            tick = next_tick(expression, max(tick, datetime.now(UTC)))  # missed ticks: skipped

    async def run(self, stop: asyncio.Event) -> None:
        """Follow every schedule until `stop` is set."""
        if not self.schedules:
            await stop.wait()
            return
        async with asyncio.TaskGroup() as group:
            for schedule, expression in self.schedules:
                group.create_task(self._follow(schedule, expression, stop))
