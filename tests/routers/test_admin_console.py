"""The admin console at /admin (routers/console) through HTTP: off by default; admins only, with
the API's passwords, second factor and login limits; a cookie that is HttpOnly, SameSite=Strict
and Secure over TLS; CSRF and cross-site refusals; a sign-in that ends with the account's
tokens; secrets never shown, values escaped; request logs paged by keyset."""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.users.models import AuthSession, User
from core.db import utcnow
from core.platform.requestlog.models import RequestLog
from tests.app.users.support import API, auth, tokens
from tests.app.users.two_factor_support import enable
from tests.conftest import client_for
from tests.helpers import DEFAULT_PASSWORD, create_user

CONSOLE = "/admin"
SAME_ORIGIN = {"Origin": "http://test"}


@pytest.fixture
async def console_app(make_app: Any) -> AsyncIterator[FastAPI]:
    async with make_app(ADMIN_CONSOLE_ENABLED="true") as app:
        yield app


@pytest.fixture
async def console(console_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(console_app) as http:
        yield http


def form_token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD
) -> httpx.Response:
    token = form_token(await client.get(f"{CONSOLE}/login"))
    body = {"csrf_token": token, "username": email, "password": password}
    return await client.post(f"{CONSOLE}/login", data=body, headers=SAME_ORIGIN)


async def write(
    client: httpx.AsyncClient, view: str, slug: str, pk: object, **form: Any
) -> httpx.Response:
    token = form_token(await client.get(f"{CONSOLE}/{view}/details/{pk}"))
    url = f"{CONSOLE}/{view}/write/{slug}/{pk}"
    return await client.post(url, data={"csrf_token": token, **form}, headers=SAME_ORIGIN)


async def user_row(database: Any, email: str) -> User:
    async with database.session() as session:
        row: User | None = await session.scalar(select(User).where(User.email == email))
    assert row is not None
    return row


# -- on with one setting --------------------------------------------------------------------


async def test_the_console_is_off_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{CONSOLE}/login")).status_code == 404


async def test_an_admin_signs_in_with_a_strict_cookie_and_page_policy(
    console: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    for path in ("/", "/user/list", "/request-logs", "/audit-log"):
        assert (await console.get(f"{CONSOLE}{path}")).headers["location"].endswith("/admin/login")
    assert (await console.get(f"{CONSOLE}/no/such/page")).status_code == 404
    page = await console.get(f"{CONSOLE}/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "<script>" not in page.text
    signed_in = await sign_in(console, "admin@example.com")
    assert signed_in.status_code == 303, signed_in.text
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    assert "secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    index = await console.get(f"{CONSOLE}/")
    assert index.status_code == 200 and "Users" in index.text
    async with database.session() as session:
        assert len((await session.scalars(select(AuthSession))).all()) == 1  # a real session


async def test_the_cookie_is_secure_over_tls(console_app: FastAPI, database: Any) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    transport = httpx.ASGITransport(app=console_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as tls:
        token = form_token(await tls.get(f"{CONSOLE}/login"))
        body = {"csrf_token": token, "username": "admin@example.com", "password": DEFAULT_PASSWORD}
        answer = await tls.post(f"{CONSOLE}/login", data=body, headers={"Origin": "https://test"})
    assert answer.status_code == 303
    assert "; secure" in answer.headers["set-cookie"].lower()


# -- who may sign in -------------------------------------------------------------------------


async def test_regular_users_and_wrong_passwords_are_refused(
    console: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "bob@example.com")
    await create_user(database, "admin@example.com", scopes=["admin"])
    refused = await sign_in(console, "bob@example.com")
    assert refused.status_code == 403 and "Only admins and superusers" in refused.text
    wrong = await sign_in(console, "admin@example.com", "not the password")
    assert wrong.status_code == 401 and "Incorrect email or password" in wrong.text
    async with database.session() as session:
        assert (await session.scalars(select(AuthSession))).all() == []
    assert (await console.get(f"{CONSOLE}/")).status_code == 302


async def test_failed_sign_ins_are_limited_like_the_api_login(make_app: Any, database: Any) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    settings = {"ADMIN_CONSOLE_ENABLED": "true", "RATE_LIMIT_LOGIN_IP": "2/15m"}
    async with make_app(**settings) as app, client_for(app) as console:
        for _ in range(2):
            assert (await sign_in(console, "admin@example.com", "wrong")).status_code == 401
        limited = await sign_in(console, "admin@example.com")
    assert limited.status_code == 429


async def test_an_account_with_a_second_factor_gives_a_code(
    console: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    authenticator = await enable(
        console, (await tokens(console, "admin@example.com"))["access_token"]
    )
    step = await sign_in(console, "admin@example.com")
    assert step.status_code == 200 and 'name="code"' in step.text
    mfa_token = re.search(r'name="mfa_token" value="([^"]+)"', step.text)
    assert mfa_token
    body = {"csrf_token": form_token(step), "mfa_token": mfa_token.group(1), "code": "000000"}
    wrong = await console.post(f"{CONSOLE}/login", data=body, headers=SAME_ORIGIN)
    assert wrong.status_code == 401 and 'name="code"' in wrong.text
    body["code"] = authenticator.next_code()
    right = await console.post(f"{CONSOLE}/login", data=body, headers=SAME_ORIGIN)
    assert right.status_code == 303, right.text
    assert (await console.get(f"{CONSOLE}/")).status_code == 200


async def test_an_admin_without_a_required_factor_is_refused_until_they_enrol(
    make_app: Any, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    settings = {"ADMIN_CONSOLE_ENABLED": "true", "AUTH_TOTP_REQUIRED_SCOPES": "admin"}
    async with make_app(**settings) as app, client_for(app) as console:
        refused = await sign_in(console, "admin@example.com")
        assert refused.status_code == 403 and "Only admins and superusers" in refused.text
        async with database.session() as session:
            assert (await session.scalars(select(AuthSession))).all() == []
        access = (await tokens(console, "admin@example.com"))["access_token"]
        authenticator = await enable(console, access)
        step = await sign_in(console, "admin@example.com")
        mfa_token = re.search(r'name="mfa_token" value="([^"]+)"', step.text)
        assert mfa_token
        code = authenticator.next_code()
        body = {"csrf_token": form_token(step), "mfa_token": mfa_token.group(1), "code": code}
        assert (
            await console.post(f"{CONSOLE}/login", data=body, headers=SAME_ORIGIN)
        ).status_code == 303
        assert (await console.get(f"{CONSOLE}/user/list")).status_code == 200


async def test_a_deactivated_or_demoted_admin_loses_the_console_at_once(
    console: httpx.AsyncClient, database: Any
) -> None:
    for email in ("root@example.com", "admin@example.com"):
        await create_user(database, email, scopes=["superuser" if "root" in email else "admin"])
    root_token = (await tokens(console, "root@example.com"))["access_token"]
    admin = await user_row(database, "admin@example.com")
    assert (await sign_in(console, "admin@example.com")).status_code == 303
    assert (await console.get(f"{CONSOLE}/user/list")).status_code == 200
    demote = {"scopes": ["regular"]}
    answer = await console.patch(
        f"{API}/users/{admin.id}/scopes", json=demote, headers=auth(root_token)
    )
    assert answer.status_code == 200, answer.text
    assert (await console.get(f"{CONSOLE}/user/list")).status_code == 302


async def test_signing_out_ends_the_session(console: httpx.AsyncClient, database: Any) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    await sign_in(console, "admin@example.com")
    cookies = dict(console.cookies)
    token = form_token(await console.get(f"{CONSOLE}/logout"))
    out = await console.post(f"{CONSOLE}/logout", data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert out.status_code == 303
    async with database.session() as session:
        [row] = (await session.scalars(select(AuthSession))).all()
    assert row.revoked_at is not None
    console.cookies.clear()
    console.cookies.update(cookies)  # the old cookie, replayed
    assert (await console.get(f"{CONSOLE}/")).status_code == 302


# -- forms and cross-site requests -----------------------------------------------------------


async def test_writes_need_the_form_token_and_this_origin(
    console: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com")
    await sign_in(console, "admin@example.com")
    url = f"{CONSOLE}/user/write/deactivate/{bob.id}"
    token = form_token(await console.get(f"{CONSOLE}/user/details/{bob.id}"))
    assert (
        await console.post(url, data={"csrf_token": "x"}, headers=SAME_ORIGIN)
    ).status_code == 403
    elsewhere = {"Origin": "http://evil.example"}
    assert (
        await console.post(url, data={"csrf_token": token}, headers=elsewhere)
    ).status_code == 403
    assert (await console.post(url, data={"csrf_token": token})).status_code == 403  # no Origin
    assert (await user_row(database, "bob@example.com")).is_active


# -- views -----------------------------------------------------------------------------------


async def test_secrets_are_never_shown_and_values_are_escaped(
    console: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com", full_name="<script>alert(1)</script>")
    bob_token = (await tokens(console, "bob@example.com"))["access_token"]
    key = await console.post(
        f"{API}/users/me/api-keys",
        json={"name": "ci", "scopes": ["regular"]},
        headers=auth(bob_token),
    )
    await sign_in(console, "admin@example.com")
    found = await console.get(f"{CONSOLE}/user/list", params={"search": "bob"})
    assert "bob@example.com" in found.text and "admin@example.com" not in found.text
    page = await console.get(f"{CONSOLE}/user/details/{bob.id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    assert bob.hashed_password is not None and bob.hashed_password not in page.text
    assert "argon2" not in page.text
    keys = await console.get(f"{CONSOLE}/api-key/list", params={"user": str(bob.id)})
    key_page = await console.get(f"{CONSOLE}/api-key/details/{key.json()['id']}")
    for text in (keys.text, key_page.text):
        assert key.json()["key"] not in text and "key_hash" not in text.lower()
    assert key.json()["name"] in keys.text


async def test_only_a_superuser_changes_scopes(console: httpx.AsyncClient, database: Any) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    await create_user(database, "root@example.com", scopes=["superuser"])
    bob = await create_user(database, "bob@example.com")
    await sign_in(console, "admin@example.com")
    assert 'id="write-scopes"' not in (await console.get(f"{CONSOLE}/user/details/{bob.id}")).text
    refused = await write(console, "user", "scopes", bob.id, choice=["admin"])
    assert refused.status_code == 404
    console.cookies.clear()
    await sign_in(console, "root@example.com")
    done = await write(console, "user", "scopes", bob.id, choice=["regular", "admin"])
    assert done.status_code == 303
    assert sorted((await user_row(database, "bob@example.com")).scopes) == ["admin", "regular"]


async def test_an_admin_cannot_change_a_superuser_and_the_api_cache_follows_writes(
    console: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    root = await create_user(database, "root@example.com", scopes=["superuser"])
    bob = await create_user(database, "bob@example.com")
    admin_token = (await tokens(console, "admin@example.com"))["access_token"]
    cached = await console.get(f"{API}/users/{bob.id}", headers=auth(admin_token))
    assert cached.json()["is_active"] is True
    await sign_in(console, "admin@example.com")
    refused = await write(console, "user", "deactivate", root.id)
    assert refused.status_code == 303
    assert (
        "Only a superuser may change a superuser"
        in (await console.get(refused.headers["location"])).text
    )
    assert (await user_row(database, "root@example.com")).is_active
    assert (await write(console, "user", "deactivate", bob.id)).status_code == 303
    fresh = await console.get(f"{API}/users/{bob.id}", headers=auth(admin_token))
    assert fresh.json()["is_active"] is False  # not the cached answer from before the write


async def test_request_logs_filter_and_page_by_keyset(
    console: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    now = utcnow()
    rows = [
        RequestLog(
            created_at=now,
            method="GET",
            route=f"/api/v1/route-{n}",
            status=500 if n % 2 else 200,
            duration_ms=1.0,
        )
        for n in range(120)
    ]
    async with database.session() as session:
        session.add_all(rows)
        await session.commit()
    await sign_in(console, "admin@example.com")
    first = await console.get(f"{CONSOLE}/request-logs", params={"status": "500"})
    assert first.status_code == 200
    assert first.text.count("/api/v1/route-") == 50 and "route-0<" not in first.text
    older = re.search(r'id="older" href="([^"]+)"', first.text)
    assert older
    second = await console.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count("/api/v1/route-") == 10
    bad = await console.get(f"{CONSOLE}/request-logs", params={"status": "42"})
    assert bad.status_code == 200 and "status" in bad.text and "alert-danger" in bad.text


async def test_the_audit_log_lists_console_writes_filtered_and_escaped(
    console: httpx.AsyncClient, database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com")
    await sign_in(console, "admin@example.com")
    assert (await write(console, "user", "deactivate", bob.id)).status_code == 303
    page = await console.get(f"{CONSOLE}/audit-log", params={"entity_id": str(bob.id)})
    assert page.status_code == 200
    table = page.text[page.text.index('id="audit-log"') :]
    assert f"user:{admin.id}" in table and ">update<" in table and "is_active" in table
    assert table.count("<tr>") == 2  # the header and the one entry of bob
    other = await console.get(f"{CONSOLE}/audit-log", params={"action": "<b>restore</b>"})
    assert "No entries match." in other.text and "<b>restore</b>" not in other.text
    bad = await console.get(f"{CONSOLE}/audit-log", params={"since": "yesterday"})
    assert bad.status_code == 200 and "since" in bad.text and "alert-danger" in bad.text
