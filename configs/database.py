"""DATABASE_* variables: the URL and the connection pool."""

from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class DatabaseSettings(PlinthSettings):
    """DATABASE_URL and pool tuning; with no URL, the embedded SQLite file under APP_DATA_DIR."""

    model_config = SettingsConfigDict(env_prefix="DATABASE_")

    url: str | None = None
    pool_size: int = 15
    # No overflow by default: SQLAlchemy closes an overflow connection as soon as it is returned
    # to a full pool, so under steady load the process connects and disconnects continually
    # (a connect costs far more CPU than the request). Requests queue for the pool instead.
    max_overflow: int = 0
    pool_timeout_seconds: float = 10.0
    pool_recycle_seconds: int = 1800
    # Off: a ping costs round trips on every checkout. A connection that died (restart, failover)
    # fails its request with a 503 and is discarded with the rest of the pool; recycling retires
    # connections before server-side idle timeouts. Turn on behind proxies that drop idle links.
    pool_pre_ping: bool = False
    statement_timeout_ms: int = 15000
    echo: bool = False
    auto_migrate: bool | None = None  # None: migrate on start-up only on the embedded default
