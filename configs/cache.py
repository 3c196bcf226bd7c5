"""CACHE_* variables: response caching of GET routes."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class CacheSettings(PlinthSettings):
    """Response cache: on/off, failure policy and the in-process store's bound."""

    model_config = SettingsConfigDict(env_prefix="CACHE_")

    enabled: bool = True
    backend_timeout_seconds: float = Field(default=0.5, gt=0)
    backend_retry_seconds: float = Field(default=2.0, ge=0)
    memory_max_entries: int = Field(default=10_000, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
