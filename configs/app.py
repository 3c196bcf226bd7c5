"""Process-level settings: environment name, host, port, workers, data directory."""

from enum import StrEnum
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings

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
    docs_enabled: bool = True

    @property
    def served_url(self) -> str:
        """This server's own address from APP_HOST and APP_PORT, as a browser on the same
        machine opens it: `http://localhost:8091` when it binds every interface."""
        host = "localhost" if self.host in ANY_INTERFACE else self.host
        if ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def is_production(self) -> bool:
        """True when running with production checks."""
        return self.env is Environment.PRODUCTION
