"""Connecting to PostgreSQL: a bounded connect time, and "cannot reach the database" as a 503.

asyncpg raises what the socket raises when it cannot connect — `ConnectionRefusedError`, a DNS
`socket.gaierror`, `TimeoutError` — and those are `OSError`s, not `DBAPIError`s: SQLAlchemy lets
them through untranslated, and the API answered 500 while PostgreSQL was down. `guard_connects`
turns every failure to reach the server, and a server that is starting, shutting down or full,
into `DatabaseUnavailable` (503 with Retry-After). Wrong credentials or a missing database stay
errors (500, logged): retrying does not fix them.

The connect timeout is `CONNECT_TIMEOUT_SECONDS`, below the request timeout so a black-holed
database host answers 503, not 504; `?timeout=2` in DATABASE_URL sets another.
"""

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from core.errors import ServiceUnavailable

logger = logging.getLogger("plinth.db")

CONNECT_TIMEOUT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 2
# Connection exceptions, operator intervention (starting up, shutting down), too many connections.
UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached (refused, unresolvable, timed out, not accepting)."""

    def __init__(self) -> None:
        super().__init__(
            "The database is unreachable; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def is_unreachable(exc: BaseException) -> bool:
    """True for a failure to connect that a retry later can fix."""
    if isinstance(exc, OSError):  # refused, reset, DNS failure, TimeoutError
        return True
    sqlstate = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", "")
    return isinstance(sqlstate, str) and sqlstate.startswith(UNAVAILABLE_SQLSTATES)


def _connect(dialect: Dialect, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
    cparams["timeout"] = float(cparams.get("timeout", CONNECT_TIMEOUT_SECONDS))
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        logger.warning("database unreachable: %s", type(exc).__name__)
        raise DatabaseUnavailable from exc


def guard_connects(engine: AsyncEngine) -> None:
    """Bound the connect time of `engine` (asyncpg) and raise `DatabaseUnavailable` when it
    cannot reach the server."""
    event.listen(engine.sync_engine, "do_connect", _connect)
