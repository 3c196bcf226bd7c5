"""METRICS_* variables: the Prometheus endpoint and how it is protected."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class MetricsSettings(PlinthSettings):
    """GET /metrics: open in development; in production it needs a token or its own port.

    With `port` set, metrics are served only there (bind `host` to a private interface), not on
    the main app. With `token` set, the main app's /metrics asks for `Authorization: Bearer`.
    """

    model_config = SettingsConfigDict(env_prefix="METRICS_")

    enabled: bool = True
    path: str = "/metrics"
    token: SecretStr | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    host: str = "127.0.0.1"
