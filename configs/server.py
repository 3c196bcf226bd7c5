"""SERVER_* variables: the production process manager (gunicorn) and the container start-up.

Read by compose/gunicorn.conf.py and compose/wait_for_services.py; `python main.py` ignores them.
Worker count, host and port are APP_WORKERS, APP_HOST and APP_PORT.
"""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class ServerSettings(PlinthSettings):
    """Timeouts of the gunicorn master and its uvicorn workers, and the start-up wait."""

    model_config = SettingsConfigDict(env_prefix="SERVER_")

    timeout_seconds: int = 60
    """A worker silent for this long is killed and replaced (gunicorn `timeout`)."""
    graceful_timeout_seconds: int = 30
    """On SIGTERM, in-flight requests and shut-down work get this long before SIGKILL."""
    keepalive_seconds: int = 5
    """Idle keep-alive connections are closed after this long (keep it below the proxy's)."""
    max_requests: int = 0
    """Recycle a worker after this many requests (0: never); jittered by 10%."""
    gc_young_threshold: int = Field(default=10_000, ge=0)
    """Allocations between two collections of the garbage collector's youngest generation in
    each worker (Python's default: 700); 0 keeps the default."""
    wait_timeout_seconds: float = 60.0
    """The container entrypoint waits this long for PostgreSQL and Redis, then gives up."""
