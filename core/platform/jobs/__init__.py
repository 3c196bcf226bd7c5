"""Background jobs: a registry of jobs and cron schedules, a queue (taskiq on a Redis stream, or
in-process on the embedded default), a worker process with retries, heartbeats and graceful
shut-down, failed-job records and the platform's maintenance jobs.

    registry  Job, JobRegistry, JobContext, Schedule    what can run
    queue     JobQueue, current_queue                   sending and delivering
    runner    attempts, backoff, failed_jobs rows       one delivery
    scheduler Scheduler                                 cron, once per tick across workers
    worker    Worker, `python -m core.platform.jobs`    the worker process
    lifespan  jobs_lifespan, enqueue_after_commit       the API side
"""

from core.platform.jobs.lifespan import enqueue_after_commit, jobs_lifespan
from core.platform.jobs.maintenance import maintenance
from core.platform.jobs.models import FailedJob
from core.platform.jobs.queue import JobQueue, current_queue
from core.platform.jobs.registry import Job, JobContext, JobRegistry, Schedule

__all__ = [
    "FailedJob",
    "Job",
    "JobContext",
    "JobQueue",
    "JobRegistry",
    "Schedule",
    "current_queue",
    "enqueue_after_commit",
    "jobs_lifespan",
    "maintenance",
]
