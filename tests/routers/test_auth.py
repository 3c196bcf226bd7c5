"""Registration, the OAuth2 password flow, refresh rotation and logout, through HTTP."""

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.users.models import RefreshToken, User
from tests.app.users.support import (
    API,
    auth,
    login,
    me,
    refresh,
    rotated_long_ago,
    tokens,
    without_request_id,
)
from tests.helpers import DEFAULT_PASSWORD, create_user

# -- register -----------------------------------------------------------------------------------


async def test_register_creates_a_regular_user_with_a_normalised_email(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{API}/auth/register",
        json={"email": "  Alice@Example.COM ", "password": "long enough", "full_name": "Alice"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "alice@example.com"
    assert body["scopes"] == ["regular"]
    assert body["is_active"] is True
    assert not any("password" in key for key in body)


@pytest.mark.parametrize(
    "extra", [{"scopes": ["superuser"]}, {"is_active": False}, {"token_version": 5}]
)
async def test_register_refuses_mass_assignment(
    client: httpx.AsyncClient, database: Any, extra: dict[str, Any]
) -> None:
    body = {"email": "eve@example.com", "password": "long enough", **extra}
    response = await client.post(f"{API}/auth/register", json=body)
    assert response.status_code == 422
    async with database.session() as session:
        assert (await session.scalars(select(User))).all() == []


async def test_register_with_a_taken_email_in_any_case_answers_as_for_a_new_one(
    client: httpx.AsyncClient, database: Any
) -> None:
    """No 409: registration must not tell which addresses have accounts (the owner gets a
    mail instead, tests/routers/test_account_emails.py). Nothing about the account changes."""
    existing = await create_user(database, "alice@example.com")
    body = {"email": "  ALICE@Example.COM ", "password": "long enough", "full_name": "Eve"}
    taken = await client.post(f"{API}/auth/register", json=body)
    fresh = await client.post(f"{API}/auth/register", json={**body, "email": "new@example.com"})
    assert taken.status_code == fresh.status_code == 201, taken.text
    assert set(taken.json()) == set(fresh.json())
    assert taken.json()["email"] == "alice@example.com"
    assert taken.json()["id"] != str(existing.id)
    assert (await login(client, "alice@example.com", "long enough")).status_code == 401
    assert (await login(client, "alice@example.com")).status_code == 200
    async with database.session() as session:
        rows = (await session.scalars(select(User).where(User.email == "alice@example.com"))).all()
        assert [(u.id, u.full_name) for u in rows] == [(existing.id, existing.full_name)]


@pytest.mark.parametrize(
    ("password", "fragment"), [("short", "at least 8"), ("x" * 129, "at most 128")]
)
async def test_register_password_policy_has_a_clear_message(
    client: httpx.AsyncClient, password: str, fragment: str
) -> None:
    response = await client.post(
        f"{API}/auth/register", json={"email": "bob@example.com", "password": password}
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["loc"] == ["body", "password"]
    assert fragment in errors[0]["msg"]
    assert password not in response.text


async def test_register_rejects_an_invalid_email(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/register", json={"email": "not-an-email", "password": "long enough"}
    )
    assert response.status_code == 422


# -- login --------------------------------------------------------------------------------------


async def test_swagger_password_flow_with_scopes_then_bearer_call(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "alice@example.com", scopes=["admin"])
    response = await login(client, " Alice@Example.com ", scope="regular")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["scope"] == "regular"
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "scope"}
    profile = await me(client, body["access_token"])
    assert profile.status_code == 200
    assert profile.json()["email"] == "alice@example.com"
    # Only `regular` was granted, so the admin routes are closed to this token.
    listing = await client.get(f"{API}/users", headers=auth(body["access_token"]))
    assert listing.status_code == 403


async def test_login_without_scope_grants_everything_held(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "root@example.com", scopes=["superuser"])
    body = await tokens(client, "root@example.com")
    assert body["scope"] == "admin regular superuser"


async def test_login_never_grants_a_scope_the_user_does_not_hold(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    body = await tokens(client, scope="regular admin superuser")
    assert body["scope"] == "regular"
    listing = await client.get(f"{API}/users", headers=auth(body["access_token"]))
    assert listing.status_code == 403
    # `admin` implies `regular`, so asking for admin alone still gets the part that is held.
    assert (await tokens(client, scope="admin"))["scope"] == "regular"
    unknown = await login(client, scope="root")
    assert unknown.status_code == 400
    assert "invalid_scope" in unknown.json()["detail"]


async def test_login_failures_are_indistinguishable(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "alice@example.com")
    await create_user(database, "idle@example.com", is_active=False)
    gone = await create_user(database, "gone@example.com")
    deleted = await client.delete(f"{API}/users/me", headers=auth(await _access(client, gone)))
    assert deleted.status_code == 204
    attempts = [
        ("nobody@example.com", DEFAULT_PASSWORD),
        ("alice@example.com", "wrong password"),
        ("idle@example.com", DEFAULT_PASSWORD),
        ("gone@example.com", DEFAULT_PASSWORD),
    ]
    responses = [await login(client, email, password) for email, password in attempts]
    assert {r.status_code for r in responses} == {401}
    bodies = [without_request_id(r.json()) for r in responses]
    assert all(body == bodies[0] for body in bodies)
    assert all(r.headers["www-authenticate"] == "Bearer" for r in responses)


async def test_overlong_password_at_login_is_a_422_not_a_hash(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    response = await login(client, password="x" * 100_000)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "password"]


async def test_login_upgrades_an_outdated_hash(client: httpx.AsyncClient, database: Any) -> None:
    from core.security import PasswordHasher

    user = await create_user(database)
    weak = await PasswordHasher(memory_cost=8192, time_cost=1).hash(DEFAULT_PASSWORD)
    async with database.session() as session:
        row = await session.get(User, user.id)
        assert row is not None
        row.hashed_password = weak
        await session.commit()
    await tokens(client)
    async with database.session() as session:
        row = await session.get(User, user.id)
        assert row is not None
        assert row.hashed_password != weak
        assert "m=19456" in row.hashed_password
    await tokens(client)  # the upgraded hash still verifies


# -- refresh ------------------------------------------------------------------------------------


async def test_refresh_rotates_and_the_old_token_stops_working(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    first = await tokens(client, scope="regular")
    rotated = await refresh(client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == "regular"
    assert (await me(client, second["access_token"])).status_code == 200
    again = await refresh(client, second["refresh_token"])
    assert again.status_code == 200


async def test_reusing_a_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    stolen = await tokens(client)
    legit = (await refresh(client, stolen["refresh_token"])).json()
    await rotated_long_ago(database)  # past AUTH_REFRESH_GRACE_SECONDS
    replay = await refresh(client, stolen["refresh_token"])
    assert replay.status_code == 401
    assert replay.headers["www-authenticate"] == "Bearer"
    # Every token of the family is dead: the rotated refresh token and its access token.
    assert (await refresh(client, legit["refresh_token"])).status_code == 401
    assert (await me(client, legit["access_token"])).status_code == 401
    # Other sessions of the same user are untouched.
    other = await tokens(client)
    assert (await me(client, other["access_token"])).status_code == 200


async def test_concurrent_refreshes_with_one_token_yield_exactly_one_success(
    client: httpx.AsyncClient, database: Any
) -> None:
    """On the embedded leg these run one after the other (SQLite: one pooled connection), so
    this checks the outcome only; test_concurrency.py overlaps them for certain on PostgreSQL."""
    await create_user(database)
    pair = await tokens(client)
    results = await asyncio.gather(
        refresh(client, pair["refresh_token"]), refresh(client, pair["refresh_token"])
    )
    assert sorted(r.status_code for r in results) == [200, 409]  # within the grace period
    async with database.session() as session:
        rows = (await session.scalars(select(RefreshToken))).all()
    # One rotation happened: the original (used) and exactly one successor.
    assert len(rows) == 2
    assert sum(row.used_at is not None for row in rows) == 1


async def test_refresh_stores_only_a_hash(client: httpx.AsyncClient, database: Any) -> None:
    await create_user(database)
    pair = await tokens(client)
    async with database.session() as session:
        rows = (await session.scalars(select(RefreshToken))).all()
    assert len(rows) == 1
    assert rows[0].token_hash not in pair["refresh_token"]
    assert len(rows[0].token_hash) == 64


@pytest.mark.parametrize(
    ("token", "status"),
    [("", 422), ("x" * 5000, 422), ("garbage", 401), ("a.b.c", 401)],
    ids=["empty", "too-long", "garbage", "three-dots"],
)
async def test_refresh_with_a_malformed_token_is_rejected(
    client: httpx.AsyncClient, token: str, status: int
) -> None:
    """Out of the schema's bounds (1..4096 characters) is a 422; in bounds but not ours, 401."""
    response = await refresh(client, token)
    assert response.status_code == status


async def test_access_token_cannot_be_used_to_refresh(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    pair = await tokens(client)
    assert (await refresh(client, pair["access_token"])).status_code == 401


async def test_refresh_of_a_deactivated_user_fails(
    client: httpx.AsyncClient, database: Any
) -> None:
    user = await create_user(database)
    pair = await tokens(client)
    async with database.session() as session:
        row = await session.get(User, user.id)
        assert row is not None
        row.is_active = False
        await session.commit()
    assert (await refresh(client, pair["refresh_token"])).status_code == 401


# -- logout -------------------------------------------------------------------------------------


async def test_logout_ends_this_session_only(client: httpx.AsyncClient, database: Any) -> None:
    await create_user(database)
    laptop, phone = await tokens(client), await tokens(client)
    response = await client.post(f"{API}/auth/logout", headers=auth(laptop["access_token"]))
    assert response.status_code == 204
    assert (await me(client, laptop["access_token"])).status_code == 401
    assert (await refresh(client, laptop["refresh_token"])).status_code == 401
    assert (await me(client, phone["access_token"])).status_code == 200
    assert (await refresh(client, phone["refresh_token"])).status_code == 200


async def test_logout_all_ends_every_session(client: httpx.AsyncClient, database: Any) -> None:
    await create_user(database)
    laptop, phone = await tokens(client), await tokens(client)
    response = await client.post(f"{API}/auth/logout-all", headers=auth(laptop["access_token"]))
    assert response.status_code == 204
    for pair in (laptop, phone):
        assert (await me(client, pair["access_token"])).status_code == 401
        assert (await refresh(client, pair["refresh_token"])).status_code == 401
    assert (await me(client, (await tokens(client))["access_token"])).status_code == 200


async def test_logout_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/auth/logout")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


# -- OpenAPI ------------------------------------------------------------------------------------


async def test_openapi_lists_the_scopes_of_the_password_flow(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    flows = [s["flows"]["password"] for s in schemes.values() if s.get("type") == "oauth2"]
    assert len(flows) == 1
    assert flows[0]["tokenUrl"].endswith("/api/v1/auth/login")
    assert set(flows[0]["scopes"]) == {"regular", "admin", "superuser"}
    assert "security" not in schema["paths"]["/api/v1/auth/login"]["post"]
    assert "security" in schema["paths"]["/api/v1/users/me"]["get"]


async def _access(client: httpx.AsyncClient, user: User) -> str:
    return str((await tokens(client, user.email))["access_token"])
