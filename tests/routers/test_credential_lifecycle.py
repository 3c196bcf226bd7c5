"""One lifecycle for every credential: whatever ends an account's sessions ends its API keys
too (password reset, password change, logout-all, deletion), and a key minted afterwards works.
Each test here is named by a line of docs/auth.md ("What ends each credential")."""

import asyncio
import hashlib
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from app.users.models import EmailToken, Purpose, User
from core.db import utcnow
from core.platform.realtime import Grant
from tests.app.users.support import API, auth, refresh, tokens
from tests.conftest import TEST_SECRET, client_for
from tests.helpers import DEFAULT_PASSWORD, create_user
from tests.routers.test_api_keys import KEYS, new_key

NEW_PASSWORD = "a brand new password"
ME = f"{API}/users/me"


async def link_token(database: Any, user: User, purpose: Purpose, **extra: Any) -> str:
    """An open emailed-link token for `user` (what the message's link carries)."""
    token = secrets.token_urlsafe(32)
    row = EmailToken(
        user_id=user.id,
        purpose=purpose,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=utcnow() + timedelta(hours=1),
        **extra,
    )
    async with database.session() as session:
        session.add(row)
        await session.commit()
    return token


async def _reset(client: httpx.AsyncClient, database: Any, user: User, access: str) -> None:
    token = await link_token(database, user, Purpose.RESET)
    body = {"token": token, "password": NEW_PASSWORD}
    answer = await client.post(f"{API}/auth/password-reset/confirm", json=body)
    assert answer.status_code == 204, answer.text


async def _change(client: httpx.AsyncClient, database: Any, user: User, access: str) -> None:
    body = {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD}
    answer = await client.patch(ME, json=body, headers=auth(access))
    assert answer.status_code == 200, answer.text


async def _logout_all(client: httpx.AsyncClient, database: Any, user: User, access: str) -> None:
    answer = await client.post(f"{API}/auth/logout-all", headers=auth(access))
    assert answer.status_code == 204, answer.text


Event = Callable[[httpx.AsyncClient, Any, User, str], Awaitable[None]]


@pytest.mark.parametrize("event", [_reset, _change, _logout_all], ids=lambda e: e.__name__)
async def test_an_account_event_ends_every_api_key_and_a_later_key_works(
    client: httpx.AsyncClient, database: Any, event: Event
) -> None:
    user = await create_user(database)
    access = (await tokens(client))["access_token"]
    keys = [(await new_key(client, access, ["regular"]))["key"] for _ in range(2)]
    assert (await client.get(ME, headers=auth(keys[0]))).status_code == 200

    await event(client, database, user, access)

    for key in keys:
        refused = await client.get(ME, headers=auth(key))
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    password = DEFAULT_PASSWORD if event is _logout_all else NEW_PASSWORD
    fresh = (await tokens(client, password=password))["access_token"]
    later = (await new_key(client, fresh, ["regular"]))["key"]
    assert (await client.get(ME, headers=auth(later))).status_code == 200
    live = (await client.get(KEYS, params={"active": "true"}, headers=auth(fresh))).json()
    assert [item["prefix"] for item in live["items"]] == [later[:12]]


async def test_a_bumped_token_version_ends_api_keys(
    client: httpx.AsyncClient, database: Any
) -> None:
    """The key follows the account's token version: any path that bumps it ends every key."""
    await create_user(database)
    access = (await tokens(client))["access_token"]
    key = (await new_key(client, access, ["regular"]))["key"]
    async with database.session() as session:
        await session.execute(update(User).values(token_version=User.token_version + 1))
        await session.commit()
    assert (await client.get(ME, headers=auth(key))).status_code == 401


async def test_deleting_the_account_ends_its_api_keys(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    access = (await tokens(client))["access_token"]
    key = (await new_key(client, access, ["regular"]))["key"]
    assert (await client.delete(ME, headers=auth(access))).status_code == 204
    assert (await client.get(ME, headers=auth(key))).status_code == 401


async def test_a_deleted_accounts_key_is_refused_although_its_version_is_current(
    client: httpx.AsyncClient, database: Any
) -> None:
    """The `deleted_at` check alone: the row is soft-deleted without bumping the version."""
    await create_user(database)
    access = (await tokens(client))["access_token"]
    key = (await new_key(client, access, ["regular"]))["key"]
    async with database.session() as session:
        await session.execute(update(User).values(deleted_at=utcnow()))
        await session.commit()
    assert (await client.get(ME, headers=auth(key))).status_code == 401


# -- what a key may never do ---------------------------------------------------------------------

ACCOUNT_CHANGES = [
    ("PATCH", "/users/me", {"full_name": "Mallory"}),
    ("PATCH", "/users/me", {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD}),
    ("DELETE", "/users/me", None),
    ("POST", "/users/me/email", {"email": "new@example.com", "current_password": "guess"}),
    ("POST", "/auth/logout", None),
    ("POST", "/auth/logout-all", None),
    ("POST", "/users/me/api-keys", {"name": "more", "scopes": ["regular"]}),
    ("DELETE", "/users/me/api-keys/{key}", None),
    ("POST", "/users/me/identities/acme/link", {}),
    ("DELETE", "/users/me/identities/{key}", None),
    ("DELETE", "/admin/api-keys/{key}", None),
    ("PATCH", "/users/{user}/scopes", {"scopes": ["superuser"]}),
]
"""Every route that changes the caller's account, a credential or a privilege (with a
superuser's key, so only the people-only rule can refuse)."""


@pytest.mark.parametrize(("method", "path", "body"), ACCOUNT_CHANGES)
async def test_a_key_gets_403_on_every_route_that_changes_an_account_or_credential(
    client: httpx.AsyncClient, database: Any, method: str, path: str, body: Any
) -> None:
    boss = await create_user(database, "boss@example.com", scopes=["superuser"])
    target = await create_user(database, "bob@example.com")
    access = (await tokens(client, "boss@example.com"))["access_token"]
    created = await new_key(client, access, ["superuser"])
    url = API + path.format(key=created["id"], user=target.id)

    refused = await client.request(method, url, json=body, headers=auth(created["key"]))

    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "session" in refused.json()["detail"]
    mine = await client.get(ME, headers=auth(created["key"]))
    assert mine.status_code == 200 and mine.json()["full_name"] == boss.full_name
    assert (await client.get(f"{API}/users/{target.id}", headers=auth(access))).json()[
        "scopes"
    ] == ["regular"]


def test_every_write_under_users_me_and_auth_sessions_is_people_only(app: Any) -> None:
    """A new route that changes the caller's account (e.g. a second factor) must refuse keys
    too: every write under /users/me, and the signed-in /auth routes, depend on the rule."""
    from fastapi.routing import APIRoute

    from routers.gates import refuse_api_keys

    def calls(dependant: Any) -> set[Any]:
        found = {dependant.call}
        for sub in dependant.dependencies:
            found |= calls(sub)
        return found

    prefixes = ("/users/me", "/auth/logout", "/users/{user_id}/scopes", "/admin/api-keys")
    checked = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or (route.methods or set()) <= {"GET", "HEAD"}:
            continue
        if route.path.startswith(tuple(API + prefix for prefix in prefixes)):
            assert refuse_api_keys in calls(route.dependant), route.path
            checked.append(route.path)
    assert f"{API}/users/me/email" in checked and len(checked) >= 8


async def test_an_admin_cannot_revoke_a_superusers_key_but_a_superuser_can(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "boss@example.com", scopes=["superuser"])
    boss = (await tokens(client, "boss@example.com"))["access_token"]
    created = await new_key(client, boss, ["regular"])
    await create_user(database, "admin@example.com", scopes=["admin"])
    admin = (await tokens(client, "admin@example.com"))["access_token"]
    url = f"{API}/admin/api-keys/{created['id']}"

    refused = await client.delete(url, headers=auth(admin))

    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get(ME, headers=auth(created["key"]))).status_code == 200
    await create_user(database, "root@example.com", scopes=["superuser"])
    root = (await tokens(client, "root@example.com"))["access_token"]
    assert (await client.delete(url, headers=auth(root))).status_code == 204
    assert (await client.get(ME, headers=auth(created["key"]))).status_code == 401


# -- the admin cache after the HTML account pages -------------------------------------------------


PAGES = [
    ("/account/verify-email", Purpose.VERIFY, {}, {}),
    ("/account/reset-password", Purpose.RESET, {}, {"password": NEW_PASSWORD}),
    ("/account/confirm-email", Purpose.CHANGE, {"new_email": "new@example.com"}, {}),
]


@pytest.mark.parametrize(("page", "purpose", "extra", "form"), PAGES, ids=lambda p: str(p))
async def test_the_admin_cache_is_fresh_after_an_html_account_page(
    client: httpx.AsyncClient,
    database: Any,
    page: str,
    purpose: Purpose,
    extra: dict[str, Any],
    form: dict[str, str],
) -> None:
    alice = await create_user(database)
    await create_user(database, "admin@example.com", scopes=["admin"])
    admin = auth((await tokens(client, "admin@example.com"))["access_token"])
    before = await client.get(f"{API}/users/{alice.id}", headers=admin)
    assert before.json()["email_verified"] is False
    assert before.headers["X-Cache"] == "MISS"
    token = await link_token(database, alice, purpose, **extra)

    done = await client.post(page, data={"token": token, **form})

    assert done.status_code == 200, done.text
    after = await client.get(f"{API}/users/{alice.id}", headers=admin)
    assert after.headers["X-Cache"] == "MISS"
    assert after.json()["email_verified"] is True
    assert after.json()["email"] == extra.get("new_email", "alice@example.com")


# -- how many a user may hold --------------------------------------------------------------------


async def test_api_keys_per_user_are_capped_and_a_revoked_one_frees_a_place(
    make_app: Any, database: Any
) -> None:
    await create_user(database)
    async with make_app(AUTH_MAX_API_KEYS_PER_USER="2") as app, client_for(app) as client:
        access = (await tokens(client))["access_token"]
        first = await new_key(client, access, ["regular"])
        await new_key(client, access, ["regular"])
        body = {"name": "third", "scopes": ["regular"]}
        refused = await client.post(KEYS, json=body, headers=auth(access))
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "2" in refused.json()["detail"]
        revoked = await client.delete(f"{KEYS}/{first['id']}", headers=auth(access))
        assert revoked.status_code == 204
        assert (await client.post(KEYS, json=body, headers=auth(access))).status_code == 201


async def test_live_sessions_per_user_are_capped_by_ending_the_oldest(
    make_app: Any, database: Any
) -> None:
    await create_user(database)
    async with make_app(AUTH_MAX_SESSIONS_PER_USER="2") as app, client_for(app) as client:
        pairs = [await tokens(client) for _ in range(3)]
        oldest, *kept = pairs
        assert (await client.get(ME, headers=auth(oldest["access_token"]))).status_code == 401
        assert (await refresh(client, oldest["refresh_token"])).status_code == 401
        for pair in kept:
            assert (await client.get(ME, headers=auth(pair["access_token"]))).status_code == 200
        rotated = await refresh(client, kept[0]["refresh_token"])  # rotating opens no session
        assert rotated.status_code == 200, rotated.text
        assert (await client.get(ME, headers=auth(kept[1]["access_token"]))).status_code == 200


# -- the other credentials' ends that no other test states ---------------------------------------


async def test_an_expired_refresh_token_is_refused(
    client: httpx.AsyncClient, database: Any
) -> None:
    """Its `exp` passed (re-signed with the real key, so only the expiry is wrong)."""
    await create_user(database)
    pair = await tokens(client)
    claims = jwt.decode(pair["refresh_token"], options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 1
    stale = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    assert (await refresh(client, stale)).status_code == 401
    assert (await refresh(client, pair["refresh_token"])).status_code == 200


async def test_a_websocket_ticket_works_once_and_only_within_its_ttl(app: Any) -> None:
    """The ticket store of this leg (Redis on services, in-process on embedded)."""
    tickets = app.state.realtime.tickets
    grant = Grant(uuid.uuid4(), None, {"ver": 0})
    once = await tickets.issue(grant, 5)
    assert await tickets.redeem(once) == grant
    assert await tickets.redeem(once) is None
    late = await tickets.issue(grant, 1)
    await asyncio.sleep(1.2)
    assert await tickets.redeem(late) is None


def test_every_test_the_credentials_table_names_exists() -> None:
    """docs/auth.md "What ends each credential" names its proof per line: each must exist
    (but the example's, in a project made without it)."""
    import re
    from pathlib import Path

    from tests.docs.test_docs import LEFT_OUT

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "auth.md").read_text()
    section = doc.split("## What ends each credential", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", section)
    assert len(named) >= 20
    for path, name in named:
        if path.startswith(LEFT_OUT):
            continue
        source = (root / path).read_text()
        assert re.search(rf"^(async )?def {name}\(", source, re.MULTILINE), f"{path}::{name}"
