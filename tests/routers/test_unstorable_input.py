"""Input that SQLite stores and PostgreSQL refuses: text with a NUL character, and an aware time
that has no date once converted to UTC. On both legs each is a 422 naming the field, and the
request stored nothing (on PostgreSQL these were 500s)."""

from typing import Any

import httpx
import pytest

from tests.app.users.support import login
from tests.helpers import API, DEFAULT_PASSWORD, Actor, actor

NUL = "bad\x00text"
OUT_OF_RANGE = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-01:00"]


def assert_invalid(response: httpx.Response, loc: list[str]) -> None:
    """A 422 problem whose errors name `loc`."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert loc in [error["loc"] for error in body["errors"]], body["errors"]


@pytest.fixture
async def alice(database: Any) -> Actor:
    return await actor(database, "alice", scopes=("regular", "admin"))


async def test_registration_with_nul_in_full_name_is_refused(client: httpx.AsyncClient) -> None:
    body = {"email": "new@example.com", "password": DEFAULT_PASSWORD, "full_name": NUL}
    assert_invalid(await client.post(f"{API}/auth/register", json=body), ["body", "full_name"])
    body["full_name"] = "New"
    assert (await client.post(f"{API}/auth/register", json=body)).status_code == 201


async def test_profile_changes_with_nul_are_refused(
    client: httpx.AsyncClient, alice: Actor
) -> None:
    mine = await client.patch(f"{API}/users/me", json={"full_name": NUL}, headers=alice.headers)
    assert_invalid(mine, ["body", "full_name"])
    theirs = await client.patch(
        f"{API}/users/{alice.id}", json={"full_name": NUL}, headers=alice.headers
    )
    assert_invalid(theirs, ["body", "full_name"])


@pytest.mark.parametrize("field", ["username", "password", "scope"])
async def test_a_login_form_with_nul_is_refused(
    client: httpx.AsyncClient, alice: Actor, field: str
) -> None:
    form = {"grant_type": "password", "username": "alice@example.com"}
    form |= {"password": DEFAULT_PASSWORD, "scope": "", field: NUL}
    assert_invalid(await client.post(f"{API}/auth/login", data=form), ["body", field])
    assert (await login(client)).status_code == 200


async def test_refresh_with_nul_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": NUL})
    assert_invalid(response, ["body", "refresh_token"])


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [
        ("/users", {"email": NUL}, ["query", "email"]),
        ("/admin/request-logs", {"route": NUL}, ["query", "route"]),
        ("/admin/request-logs", {"request_id": NUL}, ["query", "request_id"]),
        ("/admin/request-logs", {"method": NUL}, ["query", "method"]),
        ("/users", {"sort": NUL}, ["query", "sort"]),
        ("/admin/jobs/failed", {"job": NUL}, ["query", "job"]),
    ],
)
async def test_filters_with_nul_are_refused(
    client: httpx.AsyncClient, alice: Actor, path: str, params: dict[str, str], loc: list[str]
) -> None:
    response = await client.get(f"{API}{path}", params=params, headers=alice.headers)
    assert_invalid(response, loc)


@pytest.mark.parametrize("field", ["since", "until"])
@pytest.mark.parametrize("value", OUT_OF_RANGE)
async def test_request_log_times_outside_the_calendar_are_refused(
    client: httpx.AsyncClient, alice: Actor, field: str, value: str
) -> None:
    response = await client.get(
        f"{API}/admin/request-logs", params={field: value}, headers=alice.headers
    )
    assert_invalid(response, ["query", field])
