"""Shortcuts for the users tests: log in through the API as Swagger does."""

from typing import Any

import httpx

from tests.helpers import DEFAULT_PASSWORD

API = "/api/v1"


async def login(
    client: httpx.AsyncClient,
    email: str = "alice@example.com",
    password: str = DEFAULT_PASSWORD,
    scope: str = "",
) -> httpx.Response:
    """POST the OAuth2 password form, exactly as Swagger's Authorize dialog does."""
    form = {"grant_type": "password", "username": email, "password": password, "scope": scope}
    return await client.post(f"{API}/auth/login", data=form)


async def tokens(client: httpx.AsyncClient, email: str = "alice@example.com", **kw: Any) -> Any:
    """A successful login's token response."""
    response = await login(client, email, **kw)
    assert response.status_code == 200, response.text
    return response.json()


def auth(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/refresh", json={"refresh_token": refresh_token})


async def me(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get(f"{API}/users/me", headers=auth(access_token))


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "request_id"}


async def rotated_long_ago(database: Any) -> None:
    """Move every refresh token's rotation an hour back: past AUTH_REFRESH_GRACE_SECONDS,
    without waiting for it."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.users.models import RefreshToken
    from core.db import utcnow

    async with database.session() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=utcnow() - timedelta(hours=1))
        )
        await session.commit()
