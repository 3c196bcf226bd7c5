"""CORS_* variables."""

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from configs.base import PlinthSettings


class CorsSettings(PlinthSettings):
    """Allowed browser origins; empty means no CORS headers at all."""

    model_config = SettingsConfigDict(env_prefix="CORS_")

    origins: Annotated[list[str], NoDecode] = []
    allow_credentials: bool = False

    @field_validator("origins", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        """Accept `a,b,c` as well as a JSON list."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value
