"""REDIS_* variables. With no URL, in-process stand-ins serve limits, cache and revocation."""

from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class RedisSettings(PlinthSettings):
    """REDIS_URL and the per-operation timeout."""

    model_config = SettingsConfigDict(env_prefix="REDIS_")

    url: str | None = None
    timeout_seconds: float = 0.25
