"""JOBS_* variables: the background job queue, its workers and the scheduled jobs."""

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from configs.base import PlinthSettings


class JobSettings(PlinthSettings):
    """How jobs are queued, retried and scheduled.

    With REDIS_URL set, jobs go to a Redis stream and run in the worker service (`python -m
    core.platform.jobs app.jobs:registry`); without it (the embedded default) they run in the
    API process itself through the same code. `scheduler_enabled=false` keeps this process from
    running the cron schedules; an empty cron setting turns that one scheduled job off.
    """

    model_config = SettingsConfigDict(env_prefix="JOBS_")

    scheduler_enabled: bool = True
    queue_name: str = "plinth:jobs"
    concurrency: int = Field(default=10, ge=1)
    max_attempts: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)
    timeout_seconds: float = Field(default=120.0, gt=0)
    max_deliveries: int = Field(default=3, ge=1)
    redeliver_after_seconds: float = Field(default=900.0, gt=0)
    shutdown_grace_seconds: float = Field(default=30.0, ge=0)
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    purge_tokens_cron: str = "17 * * * *"
    purge_request_logs_cron: str = "27 * * * *"
    purge_deleted_cron: str = "37 3 * * *"
    purge_deleted_after_days: Annotated[dict[str, int], NoDecode] = {}

    @field_validator("purge_deleted_after_days", mode="before")
    @classmethod
    def parse_retentions(cls, value: object) -> object:
        """Accept `messages=90,threads=30` as well as a JSON object."""
        if isinstance(value, str):
            pairs = (item.split("=", 1) for item in value.split(",") if item.strip())
            return {name.strip(): int(days) for name, days in pairs}
        return value

    @field_validator("purge_deleted_after_days")
    @classmethod
    def positive_days(cls, value: dict[str, int]) -> dict[str, int]:
        """A retention is a whole number of days, at least one."""
        for table, days in value.items():
            if days < 1:
                raise ValueError(f"{table}: a retention must be at least 1 day, not {days}")
        return value
