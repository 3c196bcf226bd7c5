"""Shared base for every settings class: environment first, then the optional ENV_FILE."""

import os
from typing import Self

from pydantic_settings import BaseSettings, SettingsConfigDict


def env_file() -> str | None:
    """The settings file named by ENV_FILE (e.g. `.envs/.production/.env`), if any."""
    return os.environ.get("ENV_FILE") or None


class PlinthSettings(BaseSettings):
    """Base class: reads environment variables, then ENV_FILE; unknown keys are ignored."""

    model_config = SettingsConfigDict(extra="ignore", env_file_encoding="utf-8")

    @classmethod
    def load(cls) -> Self:
        """Build the settings from the environment and the ENV_FILE, if set."""
        return cls(_env_file=env_file())
