"""Jobs and schedules: what a worker can run, declared once and shared by every process.

    registry = JobRegistry()

    @registry.job("users.purge_tokens")
    async def purge_tokens(ctx: JobContext) -> None:
        async with unit_of_work(ctx.database) as session:
            ...

    registry.schedule(purge_tokens, cron=lambda settings: settings.jobs.purge_tokens_cron)

A job is an async function of a `JobContext` and JSON-serialisable keyword arguments. It may run
more than once (a retry, or a redelivery after a worker died), so it must be idempotent or guard
its side effect with `ctx.once(key)`.
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from configs import Settings
from core.db import Database

JobFunction = Callable[..., Awaitable[None]]
CronSetting = str | Callable[[Settings], str]


class OnceGuard(Protocol):
    """Marks a side effect done, so a redelivered job does not repeat it."""

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        """True the first time `key` is claimed (within `ttl_seconds`), False afterwards."""
        ...

    async def release(self, key: str) -> None:
        """Forget `key`: the side effect did not happen after all."""
        ...


@dataclass(frozen=True)
class JobContext:
    """What a running job gets: the process's database, Redis (None when embedded), settings,
    and which attempt of which delivery this is."""

    database: Database
    redis: Any
    settings: Settings
    job: str
    task_id: str
    attempt: int = 1
    scheduled_for: datetime | None = None
    guard: OnceGuard | None = None

    async def once(self, key: str, ttl_seconds: float = 7 * 24 * 3600) -> bool:
        """True when this job may perform the side effect named `key` (e.g. send one email);
        False when an earlier run already did. Release it on failure with `undo(key)`."""
        if self.guard is None:
            return True
        return await self.guard.claim(f"{self.job}:{key}", ttl_seconds)

    async def undo(self, key: str) -> None:
        """The side effect claimed with `once(key)` failed: let a retry perform it."""
        if self.guard is not None:
            await self.guard.release(f"{self.job}:{key}")


@dataclass(frozen=True)
class Job:
    """One kind of job: a unique name, its function, and optional per-job limits (the JOBS_*
    settings apply when they are None)."""

    name: str
    function: JobFunction
    max_attempts: int | None = None
    timeout_seconds: float | None = None

    async def __call__(self, ctx: JobContext, **kwargs: Any) -> None:
        await self.function(ctx, **kwargs)


@dataclass(frozen=True)
class Schedule:
    """Run `job` with `kwargs` at every tick of a cron expression (5 fields, or 6 with seconds
    last). An empty expression turns the schedule off."""

    job: Job
    cron: CronSetting
    kwargs: dict[str, Any] = field(default_factory=dict)

    def expression(self, settings: Settings) -> str:
        """The cron expression in force (settings may decide it)."""
        return self.cron(settings) if callable(self.cron) else self.cron


class JobRegistry:
    """The jobs and schedules of a project; the worker and the API process load the same one."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.schedules: list[Schedule] = []

    def job(
        self,
        name: str,
        *,
        max_attempts: int | None = None,
        timeout_seconds: float | None = None,
    ) -> Callable[[JobFunction], Job]:
        """Decorator registering an async function as the job `name`."""

        def register(function: JobFunction) -> Job:
            return self.add(Job(name, function, max_attempts, timeout_seconds))

        return register

    def add(self, job: Job) -> Job:
        """Register `job`; a second job with the same name is refused."""
        if self.jobs.get(job.name, job) is not job:
            raise ValueError(f"a job named {job.name!r} is already registered")
        self.jobs[job.name] = job
        return job

    def schedule(self, job: Job, *, cron: CronSetting, **kwargs: Any) -> Schedule:
        """Run `job` on a cron schedule (a string, or a function of the settings)."""
        self.add(job)
        schedule = Schedule(job, cron, kwargs)
        self.schedules.append(schedule)
        return schedule

    def include(self, *others: "JobRegistry") -> "JobRegistry":
        """Add every job and schedule of `others` (e.g. the platform's maintenance jobs)."""
        for other in others:
            for job in other.jobs.values():
                self.add(job)
            self.schedules.extend(other.schedules)
        return self

    def active_schedules(self, settings: Settings) -> Iterable[tuple[Schedule, str]]:
        """Each schedule with its cron expression, skipping those turned off."""
        for schedule in self.schedules:
            expression = schedule.expression(settings).strip()
            if expression:
                yield schedule, expression
