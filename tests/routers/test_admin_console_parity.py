"""A console write and the same action through the API leave the same traces: deactivating a
user (token version bumped, every session ended, tokens and keys refused) and revoking an API
key (revoked, the key refused, the owner's session untouched), each with the same audit entry
(same actor, action and changes)."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.api_keys.models import ApiKey
from app.users.models import AuthSession, User
from core.audit import AuditEntry
from tests.app.users.support import API, auth, refresh, tokens
from tests.conftest import client_for
from tests.helpers import create_user
from tests.routers.test_admin_console import sign_in, write


@pytest.fixture
async def client(make_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with make_app(ADMIN_CONSOLE_ENABLED="true") as app, client_for(app) as http:
        yield http


async def holder(client: httpx.AsyncClient, database: Any, email: str) -> dict[str, Any]:
    """A user signed in through the API, with one API key."""
    user = await create_user(database, email)
    pair = await tokens(client, email)
    body = {"name": "ci", "scopes": ["regular"]}
    key = await client.post(
        f"{API}/users/me/api-keys", json=body, headers=auth(pair["access_token"])
    )
    assert key.status_code == 201, key.text
    return {"user": user, "pair": pair, "key": key.json()}


async def traces(client: httpx.AsyncClient, database: Any, who: dict[str, Any]) -> dict[str, Any]:
    """What an action left behind, free of ids and times."""
    user: User = who["user"]
    async with database.session() as session:
        row = await session.get(User, user.id)
        assert row is not None
        open_sessions = await session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
        )
        key = await session.get(ApiKey, uuid.UUID(who["key"]["id"]))
        assert key is not None
        entries = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_id.in_([user.id, key.id]), AuditEntry.action != "create")
            .order_by(AuditEntry.created_at)
        )
        audit = [(e.actor, e.entity_type, e.action, e.changes) for e in entries]
    access = who["pair"]["access_token"]
    return {
        "is_active": row.is_active,
        "token_version": row.token_version,
        "open_sessions": open_sessions,
        "key_revoked": key.revoked_at is not None,
        "audit": audit,
        "access_token": (await client.get(f"{API}/users/me", headers=auth(access))).status_code,
        "api_key": (
            await client.get(f"{API}/users/me", headers=auth(who["key"]["key"]))
        ).status_code,
        "refresh": (await refresh(client, who["pair"]["refresh_token"])).status_code,
    }


async def test_deactivating_in_the_console_is_deactivating_through_the_api(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    admin_token = (await tokens(client, "admin@example.com"))["access_token"]
    by_api = await holder(client, database, "bob@example.com")
    by_console = await holder(client, database, "carol@example.com")

    answer = await client.patch(
        f"{API}/users/{by_api['user'].id}", json={"is_active": False}, headers=auth(admin_token)
    )
    assert answer.status_code == 200, answer.text
    assert (await sign_in(client, "admin@example.com")).status_code == 303
    done = await write(client, "user", "deactivate", by_console["user"].id)
    assert done.status_code == 303
    assert "deactivated" in (await client.get(done.headers["location"])).text

    expected = await traces(client, database, by_api)
    assert expected["is_active"] is False and expected["token_version"] == 1
    assert expected["open_sessions"] == 0 and expected["access_token"] == 401
    assert expected["api_key"] == 401 and expected["refresh"] == 401
    admin = f"user:{(await client.get(f'{API}/users/me', headers=auth(admin_token))).json()['id']}"
    deactivated = {"is_active": {"before": True, "after": False}}
    assert expected["audit"] == [(admin, "user", "update", deactivated)]
    assert await traces(client, database, by_console) == expected


async def test_revoking_a_key_in_the_console_is_revoking_it_through_the_api(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    admin_token = (await tokens(client, "admin@example.com"))["access_token"]
    by_api = await holder(client, database, "bob@example.com")
    by_console = await holder(client, database, "carol@example.com")

    url = f"{API}/admin/api-keys/{by_api['key']['id']}"
    assert (await client.delete(url, headers=auth(admin_token))).status_code == 204
    assert (await sign_in(client, "admin@example.com")).status_code == 303
    done = await write(client, "api-key", "revoke", by_console["key"]["id"])
    assert done.status_code == 303

    expected = await traces(client, database, by_api)
    assert expected["key_revoked"] is True and expected["api_key"] == 401
    assert expected["access_token"] == 200 and expected["is_active"] is True
    assert [(kind, action) for _, kind, action, _ in expected["audit"]] == [("api_key", "delete")]
    assert await traces(client, database, by_console) == expected
