"""Process-level settings: environment name, host, port, workers, data directory."""

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings

YEAR = 365 * 24 * 3600
ANY_INTERFACE = {"", "0.0.0.0", "::"}  # noqa: S104 - recognised, not bound


class Environment(StrEnum):
    """Where the app runs; production turns on the strict checks."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class AppSettings(PlinthSettings):
    """APP_* variables."""

    model_config = SettingsConfigDict(env_prefix="APP_")

    env: Environment = Environment.DEVELOPMENT
    name: str = "Plinth"
    host: str = "0.0.0.0"  # noqa: S104 - a server binds all interfaces; the proxy or firewall decides
    port: int = 8080
    workers: int = 1
    data_dir: Path = Path("data")
    api_prefix: str = "/api/v1"
    docs_enabled: bool | None = None
    """Serve /docs, /redoc and /openapi.json; unset: on, except in production."""
    hsts_seconds: int | None = Field(default=None, ge=0)
    """Strict-Transport-Security max-age on every response; unset: a year in production, none
    elsewhere; 0: no header."""

    @property
    def served_url(self) -> str:
        """This server's own address from APP_HOST and APP_PORT, as a browser on the same
        machine opens it: `http://localhost:8091` when it binds every interface."""
        host = "localhost" if self.host in ANY_INTERFACE else self.host
        if ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def with_environment_defaults(self) -> "AppSettings":
        """These settings with each unset environment-dependent one filled in: /docs off and
        HSTS on in production."""
        production = self.is_production
        docs = self.docs_enabled if self.docs_enabled is not None else not production
        hsts = self.hsts_seconds if self.hsts_seconds is not None else (YEAR if production else 0)
        return self.model_copy(update={"docs_enabled": docs, "hsts_seconds": hsts})

    @property
    def is_production(self) -> bool:
        """True when running with production checks."""
        return self.env is Environment.PRODUCTION
