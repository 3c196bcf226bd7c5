"""Forged, broken and stale access tokens: every one is a 401 with WWW-Authenticate, never a 500."""

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from app.users.models import User
from app.users.tokens import token_service
from core.db import utcnow
from tests.app.users.support import API, me, tokens
from tests.conftest import TEST_SECRET
from tests.helpers import bearer, create_user


def _claims(user: User, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": str(user.id),
        "type": "access",
        "scope": "regular",
        "ver": user.token_version,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "iss": "plinth",
        "aud": "plinth-api",
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def alg_none(user: User) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user))}."


def wrong_key(user: User) -> str:
    return jwt.encode(_claims(user), "another-secret-that-is-long-enough-0123456789", "HS256")


def other_algorithm(user: User) -> str:
    return jwt.encode(_claims(user), TEST_SECRET, algorithm="HS384")


def edited_payload(user: User) -> str:
    header, _, signature = jwt.encode(_claims(user), TEST_SECRET, "HS256").split(".")
    return f"{header}.{_b64(_claims(user, scope='superuser'))}.{signature}"


def expired(user: User) -> str:
    past = int(time.time()) - 3600
    return jwt.encode(_claims(user, iat=past - 600, exp=past), TEST_SECRET, "HS256")


def missing_exp(user: User) -> str:
    return jwt.encode(_claims(user, exp=None), TEST_SECRET, "HS256")


def missing_jti(user: User) -> str:
    return jwt.encode(_claims(user, jti=None), TEST_SECRET, "HS256")


def wrong_audience(user: User) -> str:
    return jwt.encode(_claims(user, aud="someone-else"), TEST_SECRET, "HS256")


def wrong_issuer(user: User) -> str:
    return jwt.encode(_claims(user, iss="someone-else"), TEST_SECRET, "HS256")


def stale_version(user: User) -> str:
    return jwt.encode(_claims(user, ver=user.token_version + 1), TEST_SECRET, "HS256")


def unknown_subject(user: User) -> str:
    return jwt.encode(_claims(user, sub=str(uuid.uuid4())), TEST_SECRET, "HS256")


def subject_not_a_uuid(user: User) -> str:
    return jwt.encode(_claims(user, sub="alice"), TEST_SECRET, "HS256")


def session_not_a_uuid(user: User) -> str:
    return jwt.encode(_claims(user, sid="nope"), TEST_SECRET, "HS256")


def unknown_session(user: User) -> str:
    return jwt.encode(_claims(user, sid=str(uuid.uuid4())), TEST_SECRET, "HS256")


def refresh_as_access(user: User) -> str:
    from core.security import TokenType

    return token_service().issue(user.id, TokenType.REFRESH, {"ver": 0, "scope": "regular"})[0]


def malformed(user: User) -> str:
    return "not.a.jwt"


FORGERIES: list[Callable[[User], str]] = [
    alg_none,
    wrong_key,
    other_algorithm,
    edited_payload,
    expired,
    missing_exp,
    missing_jti,
    wrong_audience,
    wrong_issuer,
    stale_version,
    unknown_subject,
    subject_not_a_uuid,
    session_not_a_uuid,
    unknown_session,
    refresh_as_access,
    malformed,
]


@pytest.mark.parametrize("forge", FORGERIES, ids=lambda f: f.__name__)
async def test_bad_access_tokens_are_401(
    client: httpx.AsyncClient, database: Any, forge: Callable[[User], str]
) -> None:
    user = await create_user(database)
    response = await me(client, forge(user))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


async def test_a_genuine_token_built_the_same_way_works(
    client: httpx.AsyncClient, database: Any
) -> None:
    """The forgeries above fail for the reason they name, not because the recipe is wrong."""
    user = await create_user(database)
    genuine = jwt.encode(_claims(user), TEST_SECRET, "HS256")
    assert (await me(client, genuine)).status_code == 200


async def test_token_of_a_deleted_user_is_401(client: httpx.AsyncClient, database: Any) -> None:
    user = await create_user(database)
    headers = bearer(user)
    assert (await client.delete(f"{API}/users/me", headers=headers)).status_code == 204
    response = await client.get(f"{API}/users/me", headers=headers)
    assert response.status_code == 401


async def test_a_soft_deleted_account_is_refused_although_its_token_is_current(
    client: httpx.AsyncClient, database: Any
) -> None:
    """Deleting through the API also bumps token_version; here only `deleted_at` changes."""
    user = await create_user(database)
    headers = bearer(user)
    assert (await client.get(f"{API}/users/me", headers=headers)).status_code == 200
    async with database.session() as session:
        stored = await session.get(User, user.id)
        stored.deleted_at = utcnow()
        await session.commit()
        assert stored.token_version == user.token_version and stored.is_active
    response = await client.get(f"{API}/users/me", headers=headers)
    assert response.status_code == 401


async def test_token_in_the_query_string_is_ignored(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    access = (await tokens(client))["access_token"]
    for name in ("access_token", "token"):
        response = await client.get(f"{API}/users/me", params={name: access})
        assert response.status_code == 401


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer ", "bearer x.y.z", "Token a"])
async def test_odd_authorization_headers_are_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get(f"{API}/users/me", headers={"Authorization": header})
    assert response.status_code == 401


async def test_access_tokens_are_not_refresh_tokens_either_way(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    pair = await tokens(client)
    assert (await me(client, pair["refresh_token"])).status_code == 401
    response = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": pair["access_token"]}
    )
    assert response.status_code == 401
    assert (await me(client, pair["access_token"])).status_code == 200


async def test_a_refused_token_is_verified_once_per_request(
    app: Any, client: Any, database: Any
) -> None:
    """The API-wide rate limiter and the gate share one verification, refused or not."""
    user = await create_user(database, "counted@example.com")
    headers = bearer(user)
    calls: list[str] = []
    real = app.state.authenticator

    async def counting(db: Any, token: str) -> Any:
        calls.append(token)
        return await real(db, token)

    app.state.authenticator = counting
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
    async with database.session() as session:
        stored = await session.get(User, user.id)
        stored.is_active = False
        await session.commit()
    refused = await client.get("/api/v1/users/me", headers=headers)
    assert refused.status_code == 401
    assert len(calls) == 2


WRONGLY_TYPED_CLAIMS = {
    "exp_a_numeric_string": {"exp": str(int(time.time()) + 600)},
    "iat_a_numeric_string": {"iat": str(int(time.time()))},
    "exp_a_boolean": {"exp": True},
    "sub_a_number": {"sub": 12345},
    "jti_a_list": {"jti": ["a", "b"]},
    "type_a_list": {"type": ["access"]},
    "scope_a_list": {"scope": ["superuser"]},
    "ver_a_string": {"ver": "0"},
    "sid_a_number": {"sid": 7},
}


@pytest.mark.parametrize("changes", WRONGLY_TYPED_CLAIMS.values(), ids=WRONGLY_TYPED_CLAIMS)
async def test_a_signed_token_with_wrongly_typed_claims_is_401_every_time(
    client: httpx.AsyncClient, database: Any, changes: dict[str, Any]
) -> None:
    """Signed with the real key, so only the claim types are wrong: refused on the first call
    and on the next ones (a remembered token is checked again more cheaply)."""
    user = await create_user(database)
    token = jwt.encode(_claims(user, **changes), TEST_SECRET, "HS256")
    for _ in range(2):
        response = await me(client, token)
        assert response.status_code == 401, response.text
