"""REQUEST_LOG_* variables: the API request log table and its write buffer."""

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from configs.base import PlinthSettings


class RequestLogSettings(PlinthSettings):
    """Which requests are logged, how rows are buffered and flushed, and how long they are kept."""

    model_config = SettingsConfigDict(env_prefix="REQUEST_LOG_")

    enabled: bool = True
    path_prefixes: Annotated[list[str], NoDecode] = ["/api/v1"]
    buffer_size: int = Field(default=10_000, ge=1)
    batch_size: int = Field(default=500, ge=1)
    flush_interval_seconds: float = Field(default=2.0, gt=0)
    flush_timeout_seconds: float = Field(default=10.0, gt=0)
    retention_days: int = Field(default=30, ge=0)  # 0 keeps rows forever (JOBS_* schedules it)

    @field_validator("path_prefixes", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        """Accept `/api/v1,/internal` as well as a JSON list."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value
