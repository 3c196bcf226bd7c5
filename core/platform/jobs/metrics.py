"""Prometheus metrics of the job system (served by the worker on JOBS_METRICS_PORT, and by the
API's /metrics on the embedded default where jobs run in-process)."""

from prometheus_client import Counter, Gauge, Histogram

JOB_RUNS = Counter(
    "plinth_job_runs",
    "Job attempts, by job and outcome (ok, error, timeout).",
    ["job", "outcome"],
)
JOB_FAILURES = Counter(
    "plinth_jobs_failed",
    "Jobs given up on after their last attempt and recorded in failed_jobs, by job.",
    ["job"],
)
JOB_DURATION = Histogram(
    "plinth_job_duration_seconds",
    "Time one attempt of a job took, by job.",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
QUEUE_DEPTH = Gauge(
    "plinth_jobs_queue_depth",
    "Jobs waiting or running (not yet acknowledged), as last seen by this worker.",
    multiprocess_mode="max",
)
WORKERS_ALIVE = Gauge(
    "plinth_jobs_workers_alive",
    "Workers whose heartbeat is current, as last seen by this worker.",
    multiprocess_mode="max",
)
SCHEDULED = Counter(
    "plinth_jobs_scheduled",
    "Cron ticks this process claimed and enqueued, by job.",
    ["job"],
)
