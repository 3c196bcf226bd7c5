"""LOG_* variables."""

from typing import Literal

from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class LoggingSettings(PlinthSettings):
    """Log level and format; `auto` is JSON in production and text elsewhere."""

    model_config = SettingsConfigDict(env_prefix="LOG_")

    level: str = "INFO"
    format: Literal["auto", "json", "text"] = "auto"
