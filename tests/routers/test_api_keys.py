"""API keys: created with a subset of one's scopes, shown once, stored as a hash, sent as a
bearer credential; revocation, deactivation and demotion count on the next request."""

import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.api_keys.keys import generate_key, well_formed
from app.api_keys.models import ApiKey
from app.users.models import User
from core.db import utcnow
from core.platform.requestlog import RequestLog
from tests.app.users.support import API, auth, tokens
from tests.conftest import client_for
from tests.helpers import DEFAULT_PASSWORD, bearer, create_user

KEYS = f"{API}/users/me/api-keys"


async def new_key(
    client: httpx.AsyncClient, access: str, scopes: list[str], **extra: Any
) -> dict[str, Any]:
    body = {"name": "ci", "scopes": scopes, **extra}
    response = await client.post(KEYS, json=body, headers=auth(access))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def signed_in(client: httpx.AsyncClient, database: Any, **user: Any) -> str:
    await create_user(database, **user)
    return str((await tokens(client))["access_token"])


async def test_a_key_is_shown_once_and_calls_users_me(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    created = await new_key(client, access, ["regular"])
    key = created["key"]
    assert key.startswith("plk_") and well_formed(key)
    assert created["prefix"] == key[:12]
    me = await client.get(f"{API}/users/me", headers=auth(key))
    assert me.status_code == 200 and me.json()["email"] == "alice@example.com"
    listed = (await client.get(KEYS, headers=auth(access))).json()["items"]
    assert [item["prefix"] for item in listed] == [created["prefix"]]
    assert "key" not in listed[0]
    async with database.session() as session:
        row = (await session.scalars(select(ApiKey))).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()


async def test_a_new_key_and_its_user_were_last_updated_when_created(
    client: httpx.AsyncClient,
) -> None:
    """Before, `updated_at` read the clock a few microseconds before `created_at`."""
    body = {"email": "alice@example.com", "password": DEFAULT_PASSWORD}
    registered = await client.post(f"{API}/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    user = registered.json()
    assert user["updated_at"] == user["created_at"]
    created = await new_key(client, str((await tokens(client))["access_token"]), ["regular"])
    assert created["updated_at"] == created["created_at"]


async def test_a_key_has_exactly_its_scopes(client: httpx.AsyncClient, database: Any) -> None:
    access = await signed_in(client, database, scopes=["admin"])
    regular = (await new_key(client, access, ["regular"]))["key"]
    admin = (await new_key(client, access, ["admin"]))["key"]
    assert (await client.get(f"{API}/users", headers=auth(regular))).status_code == 403
    assert (await client.get(f"{API}/users", headers=auth(admin))).status_code == 200


async def test_scopes_not_held_and_past_expiry_are_422(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    for body in (
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": ["regular"], "expires_at": "2000-01-01T00:00:00Z"},
        {"name": "x", "scopes": ["owner"]},
        {"name": "", "scopes": ["regular"]},
        {"name": "nul\u0000", "scopes": ["regular"]},
        {"name": "x", "scopes": ["regular"], "expires_at": "0001-01-01T00:00:00+14:00"},
    ):
        response = await client.post(KEYS, json=body, headers=auth(access))
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_revocation_counts_on_the_next_request(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    created = await new_key(client, access, ["regular"])
    assert (await client.get(f"{API}/users/me", headers=auth(created["key"]))).status_code == 200
    revoked = await client.delete(f"{KEYS}/{created['id']}", headers=auth(access))
    assert revoked.status_code == 204
    refused = await client.get(f"{API}/users/me", headers=auth(created["key"]))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    listed = (await client.get(KEYS, headers=auth(access))).json()["items"]
    assert listed[0]["revoked_at"] is not None


async def test_deactivation_and_demotion_of_the_owner_count_at_once(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database, scopes=["admin"])
    key = (await new_key(client, access, ["admin"]))["key"]
    async with database.session() as session:
        await session.execute(update(User).values(scopes=["regular"]))
        await session.commit()
    assert (await client.get(f"{API}/users", headers=auth(key))).status_code == 403
    assert (await client.get(f"{API}/users/me", headers=auth(key))).status_code == 200
    async with database.session() as session:
        await session.execute(update(User).values(is_active=False))
        await session.commit()
    assert (await client.get(f"{API}/users/me", headers=auth(key))).status_code == 401


async def test_expired_malformed_and_unknown_keys_are_401(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    soon = (utcnow() + timedelta(hours=1)).isoformat()
    key = (await new_key(client, access, ["regular"], expires_at=soon))["key"]
    async with database.session() as session:
        await session.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")
    for credential in (key, broken, generate_key(), "plk_", "plk_" + "x" * 5000):
        response = await client.get(f"{API}/users/me", headers=auth(credential))
        assert response.status_code == 401, credential


async def test_a_key_cannot_manage_keys_identities_or_sessions(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    key = (await new_key(client, access, ["regular"]))["key"]
    body = {"name": "y", "scopes": ["regular"]}
    assert (await client.post(KEYS, json=body, headers=auth(key))).status_code == 403
    assert (await client.get(KEYS, headers=auth(key))).status_code == 403
    assert (await client.post(f"{API}/auth/logout", headers=auth(key))).status_code == 403
    assert (await client.delete(f"{API}/users/me", headers=auth(key))).status_code == 403
    assert (await client.get(f"{API}/users/me", headers=auth(access))).status_code == 200


async def test_last_used_is_recorded_without_a_write_per_request(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    key = (await new_key(client, access, ["regular"]))["key"]
    await client.get(f"{API}/users/me", headers=auth(key))
    async with database.session() as session:
        first = (await session.scalars(select(ApiKey.last_used_at))).one()
    assert first is not None
    for _ in range(3):
        await client.get(f"{API}/users/me", headers=auth(key))
    async with database.session() as session:
        assert (await session.scalars(select(ApiKey.last_used_at))).one() == first


async def test_each_key_has_its_own_rate_limit(make_app: Any, database: Any) -> None:
    async with make_app(RATE_LIMIT_API_KEY="2/1h") as app, client_for(app) as client:
        access = await signed_in(client, database)
        one = (await new_key(client, access, ["regular"]))["key"]
        two = (await new_key(client, access, ["regular"]))["key"]
        statuses = [(await client.get(f"{API}/users/me", headers=auth(one))).status_code]
        statuses += [(await client.get(f"{API}/users/me", headers=auth(one))).status_code]
        statuses += [(await client.get(f"{API}/users/me", headers=auth(one))).status_code]
        assert statuses == [200, 200, 429]
        assert (await client.get(f"{API}/users/me", headers=auth(two))).status_code == 200
        assert (await client.get(f"{API}/users/me", headers=auth(access))).status_code == 200


async def test_request_logs_record_the_key_id(make_app: Any, database: Any) -> None:
    async with make_app() as app, client_for(app) as client:
        access = await signed_in(client, database)
        created = await new_key(client, access, ["regular"])
        await client.get(f"{API}/users/me", headers=auth(created["key"]))
        await app.state.request_log_writer.flush()
    async with database.session() as session:
        stmt = select(RequestLog.api_key_id).where(RequestLog.route == f"{API}/users/me")
        assert (await session.scalars(stmt)).all() == [uuid_of(created)]


def uuid_of(created: dict[str, Any]) -> Any:
    import uuid

    return uuid.UUID(created["id"])


async def test_admins_list_and_revoke_any_key(client: httpx.AsyncClient, database: Any) -> None:
    access = await signed_in(client, database)
    created = await new_key(client, access, ["regular"])
    admin = bearer(await create_user(database, "admin@example.com", scopes=["admin"]))
    listed = await client.get(f"{API}/admin/api-keys", headers=admin)
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    assert listed.json()["items"][0]["user_id"]
    assert (
        await client.delete(f"{API}/admin/api-keys/{created['id']}", headers=admin)
    ).status_code == 204
    assert (await client.get(f"{API}/users/me", headers=auth(created["key"]))).status_code == 401
    regular = await client.get(f"{API}/admin/api-keys", headers=auth(access))
    assert regular.status_code == 403


async def test_others_keys_are_404(client: httpx.AsyncClient, database: Any) -> None:
    access = await signed_in(client, database)
    created = await new_key(client, access, ["regular"])
    bob = bearer(await create_user(database, "bob@example.com"))
    assert (await client.delete(f"{KEYS}/{created['id']}", headers=bob)).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/users/me", "/api/v1/users/me/api-keys"])
async def test_swagger_documents_the_key_scheme(client: httpx.AsyncClient, path: str) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["APIKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["APIKey"]["description"],
    }
    operation = spec["paths"][path]["get"]
    assert {"APIKey": ["regular"]} in operation["security"]
