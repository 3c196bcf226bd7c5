"""ADMIN_CONSOLE_* variables: the operators' web console (routers/console)."""

from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class AdminConsoleSettings(PlinthSettings):
    """The admin console at /admin: off unless `enabled`; admins and superusers sign in there
    with their own password (and second factor)."""

    model_config = SettingsConfigDict(env_prefix="ADMIN_CONSOLE_")

    enabled: bool = False
