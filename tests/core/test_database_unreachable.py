"""A database that cannot be reached answers 503 problem+json with Retry-After, never 500.

The app points at a PostgreSQL address where nothing usable listens: a closed port (refused),
a host name that does not resolve, and a port that accepts TCP and never answers (the connect
timeout). asyncpg raises OSErrors there, which SQLAlchemy does not translate. Runs on both legs:
no PostgreSQL server is needed to not reach one.
"""

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.users.models import User
from core.db import new_id
from core.dbconnect import RETRY_AFTER_SECONDS
from tests.conftest import client_for, running_app
from tests.helpers import DEFAULT_PASSWORD, bearer

API = "/api/v1"
PG = "postgresql+asyncpg://plinth:plinth@{host}:{port}/plinth"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose backlog completes the TCP handshake but nobody ever speaks."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    body = response.json()
    assert (body["status"], body["type"]) == (
        503,
        "https://plinth.dev/problems/service-unavailable",
    )
    assert body["detail"] == "The database is unreachable; try again shortly."


async def requests_through_the_api(database_url: str) -> list[httpx.Response]:
    """A registration, a login, two reads with a valid token, and readiness, on an app using
    that URL."""
    async with running_app(DATABASE_URL=database_url) as app, client_for(app) as client:
        someone = User(
            id=new_id(), email="someone@example.com", scopes=["regular"], token_version=0
        )
        account = {"email": "new@example.com", "password": DEFAULT_PASSWORD}
        form = {"username": "new@example.com", "password": DEFAULT_PASSWORD}
        return [
            await client.post(f"{API}/auth/register", json=account),
            await client.post(f"{API}/auth/login", data=form),
            await client.get(f"{API}/users/me", headers=bearer(someone)),
            await client.get(f"{API}/users/me/api-keys", headers=bearer(someone)),
            await client.get("/health/ready"),
        ]


@pytest.mark.parametrize(
    "host_port",
    [
        pytest.param(lambda _: ("127.0.0.1", closed_port()), id="refused"),
        pytest.param(lambda _: ("no-such-database.invalid", 5432), id="dns-failure"),
    ],
)
async def test_an_unreachable_database_answers_503_with_retry_after(host_port: Any) -> None:
    host, port = host_port(None)
    *api, ready = await requests_through_the_api(PG.format(host=host, port=port))
    for response in api:
        assert_unavailable(response)
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unavailable"


async def test_a_silent_database_answers_503_after_the_connect_timeout(silent_port: int) -> None:
    url = PG.format(host="127.0.0.1", port=silent_port) + "?timeout=0.5"
    async with running_app(DATABASE_URL=url) as app, client_for(app) as client:
        account = {"email": "new@example.com", "password": DEFAULT_PASSWORD}
        assert_unavailable(await client.post(f"{API}/auth/register", json=account))
