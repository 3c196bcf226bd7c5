"""Shortcuts for tests: users straight in the database, and bearer headers for them."""

from collections.abc import Iterable
from typing import Any

from app.users.auth import issue_access_token
from app.users.models import User
from app.users.tokens import password_hasher

DEFAULT_PASSWORD = "correct horse battery"


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
