"""A socket opened with an API key lives as long as the key: revoking the key, its expiry or an
account-wide revocation closes it with 4401 within the re-validation period, as for sessions."""

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.api_keys.models import ApiKey
from core.db import utcnow
from core.platform.realtime import CloseCode
from tests.helpers import create_user
from tests.realtime.conftest import Client, sign_in

pytestmark = pytest.mark.slow


async def _keyed(
    servers: list[str], http: httpx.AsyncClient, database: Any
) -> tuple[Client, Client, Any]:
    """alice signed in on B, and a client of A that authenticates with a key of hers."""
    await create_user(database, "alice@example.com", full_name="Alice")
    person = await sign_in(servers[-1], http, "alice@example.com")
    answer = await person.call(
        "POST", "/users/me/api-keys", json={"name": "bot", "scopes": ["regular"]}
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    return person, Client(servers[0], http, created["key"], person.id), created


async def _revoke(person: Client, key: dict[str, Any], database: Any) -> None:
    answer = await person.call("DELETE", f"/users/me/api-keys/{key['id']}")
    assert answer.status_code == 204, answer.text


async def _expire(person: Client, key: dict[str, Any], database: Any) -> None:
    async with database.session() as session:
        await session.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()


async def _logout_all(person: Client, key: dict[str, Any], database: Any) -> None:
    answer = await person.call("POST", "/auth/logout-all")
    assert answer.status_code == 204, answer.text


@pytest.mark.parametrize("end", [_revoke, _expire, _logout_all], ids=lambda f: f.__name__)
async def test_ending_the_key_closes_its_socket_within_a_second(
    servers: list[str], database: Any, http: httpx.AsyncClient, end: Any
) -> None:
    person, bot, key = await _keyed(servers, http, database)
    stream = await bot.connect()
    started = time.monotonic()
    await end(person, key, database)
    assert await stream.closed_with() == CloseCode.UNAUTHORIZED
    assert time.monotonic() - started < 1.0


async def test_a_live_key_keeps_its_socket(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    """The re-check passes for a key that still works: the socket answers a ping after several
    re-validation periods."""
    person, bot, _ = await _keyed(servers, http, database)
    stream = await bot.connect()
    other = await person.call(
        "POST", "/users/me/api-keys", json={"name": "other", "scopes": ["regular"]}
    )
    await person.call("DELETE", f"/users/me/api-keys/{other.json()['id']}")
    for _ in range(4):  # REALTIME_REVALIDATE_SECONDS is 0.25 in these tests
        await stream.send(type="ping")
        assert (await stream.next())["type"] == "pong"
        await asyncio.sleep(0.25)
    await stream.close()
