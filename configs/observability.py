"""SENTRY_* and OTEL_* variables: error reporting and tracing, both off unless configured."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class SentrySettings(PlinthSettings):
    """Sentry is on when SENTRY_DSN is set (needs `pip install -r requirements-extras.txt`)."""

    model_config = SettingsConfigDict(env_prefix="SENTRY_")

    dsn: SecretStr | None = None
    traces_sample_rate: float = Field(default=0.0, ge=0, le=1)
    sample_rate: float = Field(default=1.0, ge=0, le=1)
    send_default_pii: bool = False
    include_local_variables: bool = False  # frame locals can hold headers, tokens, passwords
    release: str | None = None


class TracingSettings(PlinthSettings):
    """OpenTelemetry tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT is set (OTLP over HTTP)."""

    model_config = SettingsConfigDict(env_prefix="OTEL_")

    exporter_otlp_endpoint: str | None = None
    service_name: str = "plinth"
    traces_sample_rate: float = Field(default=1.0, ge=0, le=1)
