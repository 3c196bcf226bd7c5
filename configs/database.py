"""DATABASE_* variables: the URL and the connection pool."""

from typing import Annotated, Literal

from pydantic import field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

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
    # "transaction": DATABASE_URL points at PgBouncer (or another pooler) in transaction mode:
    # no prepared-statement caches, and statement_timeout is not sent at connect (set it on
    # the role: ALTER ROLE … SET statement_timeout). "none": a direct connection.
    pooler: Literal["none", "transaction"] = "none"
    # Where migrations run (alembic, the app's auto-migrate, the CLI); empty: DATABASE_URL.
    # Behind a pooler, point it at PostgreSQL itself.
    migration_url: str | None = None
    # Streaming replicas that read-only units read from (comma-separated URLs); empty: none.
    replica_urls: Annotated[list[str], NoDecode] = []
    # A replica further behind than this is skipped (its reads go to the primary).
    replica_max_lag_seconds: float = 5.0
    # How often each process checks its replicas' replay position and health.
    replica_check_seconds: float = 0.5
    # How long a caller's reads stay on the primary after its own write at most, if no
    # replica catches up sooner (read-your-writes by WAL position).
    replica_sticky_seconds: float = 30.0

    @field_validator("replica_urls", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        """Accept `a,b` as well as a JSON list."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value
