"""REQUEST_* variables: request body size and time limits."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class LimitSettings(PlinthSettings):
    """Largest accepted request body (413 above) and the time to a response's start (504 after).

    0 turns a limit off. The database statement and pool timeouts are DATABASE_* settings.
    """

    model_config = SettingsConfigDict(env_prefix="REQUEST_")

    max_body_bytes: int = Field(default=1_048_576, ge=0)
    timeout_seconds: float = Field(default=30.0, ge=0)
