"""Shortcuts for tests: users straight in the database, bearer headers for them, and the SQL
an engine sends."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from app.users.authentication import issue_access_token
from app.users.models import User
from app.users.tokens import password_hasher

DEFAULT_PASSWORD = "correct horse battery"
API = "/api/v1"


async def create_user(
    database: Any,
    email: str = "alice@example.com",
    *,
    password: str = DEFAULT_PASSWORD,
    scopes: Iterable[str] = ("regular",),
    full_name: str = "",
    is_active: bool = True,
) -> User:
    """Insert a user directly (no HTTP), committed."""
    hashed = await password_hasher().hash(password)
    user = User(
        email=email.lower(),
        hashed_password=hashed,
        full_name=full_name,
        scopes=list(scopes),
        is_active=is_active,
    )
    async with database.session() as session:
        session.add(user)
        await session.commit()
    return user


def bearer(user: User, scopes: Iterable[str] | None = None) -> dict[str, str]:
    """An Authorization header with a fresh access token for `user`."""
    token, _ = issue_access_token(user, scopes if scopes is not None else user.scopes)
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def recorded_statements(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement (and its parameters) `engine` (an `AsyncEngine`) sends in the block."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sync_engine, "before_cursor_execute", record)


def selects(seen: Iterable[tuple[str, Any]]) -> list[str]:
    """The SELECT statements of `recorded_statements` (not BEGIN, COMMIT or writes)."""
    return [statement for statement, _ in seen if statement.lstrip().upper().startswith("SELECT")]


PATIENT = {"REDIS_TIMEOUT_SECONDS": "5", "RATE_LIMIT_BACKEND_TIMEOUT_SECONDS": "5"}
"""Limiter and Redis timeouts for tests that assert a 429: under load on a small machine the
first Redis call can take longer than the default 0.5 s, and the limiter then fails open."""


@dataclass
class Actor:
    """A user and the Authorization header of a fresh access token for them."""

    user: User
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return str(self.user.id)


async def actor(
    database: Any, name: str, *, scopes: tuple[str, ...] = ("regular",), **kwargs: Any
) -> Actor:
    user = await create_user(
        database, f"{name}@example.com", scopes=scopes, full_name=name.title(), **kwargs
    )
    return Actor(user, bearer(user))
