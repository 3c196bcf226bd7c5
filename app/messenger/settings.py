"""MESSENGER_* variables: the example's own limits (it has no place in configs/, which every
project keeps, with or without the example)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from configs import Settings, get_settings
from configs.base import PlinthSettings


class MessengerSettings(PlinthSettings):
    """MESSENGER_* variables."""

    model_config = SettingsConfigDict(env_prefix="MESSENGER_")

    max_participants: int = Field(default=1000, ge=2)
    """Members one thread may have, its creator included; more is a 409."""


_loaded: tuple[Settings, MessengerSettings] | None = None


def messenger_settings() -> MessengerSettings:
    """The messenger's settings, read once per loaded `get_settings()` (a reload — tests
    changing the environment — reads them again)."""
    global _loaded
    current = get_settings()
    if _loaded is None or _loaded[0] is not current:
        _loaded = (current, MessengerSettings.load())
    return _loaded[1]
