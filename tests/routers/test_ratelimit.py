"""Rate limits through HTTP: the API-wide limit, route limits, login and registration."""

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request

from core.platform.ratelimit import RateLimiter
from core.replicarouting import REPLICA_FAILED, ReplicaFallbackMiddleware
from tests.app.users.support import API, login
from tests.conftest import Leg, client_for
from tests.helpers import DEFAULT_PASSWORD, PATIENT, bearer, create_user

ME = f"{API}/users/me"
# Exactness is about the limit, not about a loaded test machine: generous Redis timeouts, so a
# slow connect under a burst does not fail open (that path has its own tests below).


def client_at(app: FastAPI, ip: str) -> httpx.AsyncClient:
    """A client whose connection comes from `ip` (the direct peer the server sees)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 4321))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def bearer_of(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


async def register(client: httpx.AsyncClient, email: str) -> httpx.Response:
    body = {"email": email, "password": DEFAULT_PASSWORD}
    return await client.post(f"{API}/auth/register", json=body)


# -- the API-wide limit --------------------------------------------------------------------------


async def test_api_responses_carry_the_rate_limit_headers(
    client: httpx.AsyncClient, database: Any
) -> None:
    user = await create_user(database)
    first = await client.get(ME, headers=bearer(user))
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "600"
    assert first.headers["X-RateLimit-Remaining"] == "599"
    assert 0 < int(first.headers["X-RateLimit-Reset"]) <= 60


async def test_errors_raised_after_the_check_carry_the_headers_too(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get(ME)  # the gate answers 401 after the limit was charged
    assert answer.status_code == 401
    assert answer.headers["X-RateLimit-Limit"] == "120"
    assert answer.headers["X-RateLimit-Remaining"] == "119"


async def test_remaining_counts_down_to_zero(make_app: Callable[..., Any], database: Any) -> None:
    user = await create_user(database)
    # one request per 12 minutes comes back: no request in this test waits that long
    async with make_app(RATE_LIMIT_USER="5/1h") as app, client_for(app) as client:
        answers = [await client.get(ME, headers=bearer(user)) for _ in range(5)]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["4", "3", "2", "1", "0"]
    assert 3500 < int(answers[-1].headers["X-RateLimit-Reset"]) <= 3600


async def test_a_read_answered_again_from_the_primary_is_charged_once(app: FastAPI) -> None:
    runs: list[int] = []

    async def read(request: Request) -> dict[str, int]:
        runs.append(len(runs))
        if len(runs) % 2:  # each request's first run: its replica failed under it
            request.scope[REPLICA_FAILED] = True
        return {"run": len(runs)}

    limit = RateLimiter(times=5, seconds=3600, name="replica-read")
    app.add_api_route("/replica-read", read, dependencies=[Depends(limit)])
    transport = httpx.ASGITransport(app=ReplicaFallbackMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answers = [await client.get("/replica-read") for _ in range(2)]
    assert [r.json() for r in answers] == [{"run": 2}, {"run": 4}]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["4", "3"]


async def test_exactly_the_limit_is_served_under_three_times_concurrent_overload(
    make_app: Callable[..., Any],
) -> None:
    env = {**PATIENT, "RATE_LIMIT_ANONYMOUS": "5/1m"}
    async with make_app(**env) as app, client_for(app) as client:
        responses = await asyncio.gather(*(client.get(ME) for _ in range(15)))
    assert statuses(responses) == {401: 5, 429: 10}  # limited before the gate answers 401


async def test_a_refusal_is_a_problem_with_retry_after_and_the_limit_headers(
    make_app: Callable[..., Any],
) -> None:
    async with make_app(RATE_LIMIT_ANONYMOUS="2/1m") as app, client_for(app) as client:
        for _ in range(2):
            await client.get(ME)
        refused = await client.get(ME)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert body["type"].endswith("/too-many-requests")
    assert (body["status"], body["title"], body["errors"]) == (429, "Too many requests", [])
    assert "2 per 60 seconds" in body["detail"]
    assert body["request_id"] == refused.headers["X-Request-ID"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert refused.headers["X-RateLimit-Limit"] == "2"
    assert refused.headers["X-RateLimit-Remaining"] == "0"


async def test_users_are_limited_each_on_their_own_not_by_address(
    make_app: Callable[..., Any], database: Any
) -> None:
    alice = await create_user(database, "alice@example.com")
    bob = await create_user(database, "bob@example.com")
    async with make_app(RATE_LIMIT_USER="3/1m") as app, client_for(app) as client:
        alice_answers = [await client.get(ME, headers=bearer(alice)) for _ in range(4)]
        bob_answer = await client.get(ME, headers=bearer(bob))
        anonymous = await client.get(ME)
    assert [r.status_code for r in alice_answers] == [200, 200, 200, 429]
    assert bob_answer.status_code == 200
    assert anonymous.status_code == 401


async def test_an_invalid_token_counts_against_the_address(make_app: Callable[..., Any]) -> None:
    forged = {"Authorization": "Bearer not.a.token"}
    async with make_app(RATE_LIMIT_ANONYMOUS="2/1m") as app, client_for(app) as client:
        answers = [await client.get(ME, headers=forged) for _ in range(3)]
    assert [r.status_code for r in answers] == [401, 401, 429]


async def test_admins_get_the_scope_multiplier(make_app: Callable[..., Any], database: Any) -> None:
    admin = await create_user(database, "root@example.com", scopes=["admin"])
    regular = await create_user(database, "alice@example.com")
    env = {"RATE_LIMIT_USER": "2/1m", "RATE_LIMIT_SCOPE_MULTIPLIERS": '{"admin": 3}'}
    async with make_app(**env) as app, client_for(app) as client:
        admin_answer = await client.get(ME, headers=bearer(admin))
        regular_answer = await client.get(ME, headers=bearer(regular))
    assert admin_answer.headers["X-RateLimit-Limit"] == "6"
    assert regular_answer.headers["X-RateLimit-Limit"] == "2"


async def test_limits_can_be_turned_off(make_app: Callable[..., Any]) -> None:
    env = {"RATE_LIMIT_ENABLED": "false", "RATE_LIMIT_ANONYMOUS": "1/1m"}
    async with make_app(**env) as app, client_for(app) as client:
        answers = [await client.get(ME) for _ in range(4)]
    assert statuses(answers) == {401: 4}
    assert "X-RateLimit-Limit" not in answers[0].headers


# -- client addresses ------------------------------------------------------------------------------


async def test_a_spoofed_forwarded_for_does_not_change_the_key(
    make_app: Callable[..., Any],
) -> None:
    async with make_app(RATE_LIMIT_ANONYMOUS="3/1m") as app, client_for(app) as client:
        answers = [
            await client.get(ME, headers={"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(4)
        ]
    assert [r.status_code for r in answers] == [401, 401, 401, 429]


async def test_a_forwarded_for_from_an_untrusted_peer_is_ignored(
    make_app: Callable[..., Any],
) -> None:
    env = {"RATE_LIMIT_ANONYMOUS": "2/1m", "TRUSTED_PROXIES": "10.0.0.1"}
    async with make_app(**env) as app, client_at(app, "203.0.113.7") as client:
        answers = [
            await client.get(ME, headers={"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(3)
        ]
    assert [r.status_code for r in answers] == [401, 401, 429]


async def test_a_trusted_proxy_separates_the_clients_behind_it(
    make_app: Callable[..., Any],
) -> None:
    env = {"RATE_LIMIT_ANONYMOUS": "2/1m", "TRUSTED_PROXIES": "10.0.0.0/24"}
    async with make_app(**env) as app, client_at(app, "10.0.0.5") as proxy:
        first = {"X-Forwarded-For": "198.51.100.1"}
        spoofing_first = {"X-Forwarded-For": "198.51.100.2, 198.51.100.1"}
        second = {"X-Forwarded-For": "198.51.100.2"}
        first_answers = [await proxy.get(ME, headers=first) for _ in range(2)]
        spoofed = await proxy.get(ME, headers=spoofing_first)
        second_answer = await proxy.get(ME, headers=second)
    assert [r.status_code for r in first_answers] == [401, 401]
    assert spoofed.status_code == 429  # the proxy saw 198.51.100.1, whatever the client claims
    assert second_answer.status_code == 401


# -- route limits ----------------------------------------------------------------------------------


async def test_a_route_limiter_adds_its_own_tighter_limit(make_app: Callable[..., Any]) -> None:
    router = APIRouter()

    @router.get("/limited", dependencies=[Depends(RateLimiter(times=2, seconds=60))])
    async def limited() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/other", dependencies=[Depends(RateLimiter(times=2, seconds=60))])
    async def other() -> dict[str, bool]:
        return {"ok": True}

    async with make_app() as app, client_for(app) as client:
        app.include_router(router, prefix="/test")
        answers = [await client.get("/test/limited") for _ in range(3)]
        elsewhere = await client.get("/test/other")
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    assert answers[1].headers["X-RateLimit-Remaining"] == "0"
    assert elsewhere.status_code == 200  # one bucket per route


# -- login and registration ------------------------------------------------------------------------


async def test_failed_logins_are_limited_per_account(
    make_app: Callable[..., Any], database: Any
) -> None:
    await create_user(database, "alice@example.com")
    await create_user(database, "bob@example.com")
    async with make_app(RATE_LIMIT_LOGIN_ACCOUNT="3/15m") as app, client_for(app) as client:
        wrong = [await login(client, "alice@example.com", "wrong password") for _ in range(3)]
        right_but_late = await login(client, "Alice@Example.com", DEFAULT_PASSWORD)
        other_account = await login(client, "bob@example.com", DEFAULT_PASSWORD)
    assert [r.status_code for r in wrong] == [401, 401, 401]
    assert right_but_late.status_code == 429
    assert int(right_but_late.headers["Retry-After"]) > 60
    assert other_account.status_code == 200


async def test_successful_logins_do_not_count_as_failures(
    make_app: Callable[..., Any], database: Any
) -> None:
    await create_user(database, "alice@example.com")
    env = {"RATE_LIMIT_LOGIN_ACCOUNT_CLIENT": "2/15m"}
    async with make_app(**env) as app, client_for(app) as client:
        answers = [await login(client, "alice@example.com", DEFAULT_PASSWORD) for _ in range(4)]
        wrong = [await login(client, "alice@example.com", "wrong password") for _ in range(3)]
    assert [r.status_code for r in answers] == [200] * 4
    assert answers[-1].headers["X-RateLimit-Remaining"] == "2"  # nothing was kept
    assert [r.status_code for r in wrong] == [401, 401, 429]


async def test_a_strangers_guesses_do_not_lock_the_owner_out(
    make_app: Callable[..., Any], database: Any
) -> None:
    """The default limits: ten wrong passwords from one client stop that client only."""
    await create_user(database, "alice@example.com")
    async with make_app() as app:
        stranger = client_at(app, "203.0.113.66")
        guesses = [await login(stranger, "alice@example.com", f"guess {n}") for n in range(11)]
        owner = await login(client_at(app, "198.51.100.7"), "alice@example.com", DEFAULT_PASSWORD)
        still_refused = await login(stranger, "alice@example.com", DEFAULT_PASSWORD)
    assert [r.status_code for r in guesses] == [401] * 10 + [429]
    assert owner.status_code == 200
    assert still_refused.status_code == 429


async def test_the_account_ceiling_stops_spread_guesses_but_not_a_known_client(
    make_app: Callable[..., Any], database: Any
) -> None:
    await create_user(database, "alice@example.com")
    env = {"RATE_LIMIT_LOGIN_ACCOUNT_CLIENT": "3/15m", "RATE_LIMIT_LOGIN_ACCOUNT": "4/15m"}
    async with make_app(**env) as app:
        known = client_at(app, "198.51.100.7")
        assert (await login(known, "alice@example.com", DEFAULT_PASSWORD)).status_code == 200
        spread = [
            await login(client_at(app, f"203.0.113.{n}"), "alice@example.com", "guess")
            for n in range(6)
        ]
        new_device = await login(client_at(app, "192.0.2.1"), "alice@example.com", DEFAULT_PASSWORD)
        owner = await login(known, "alice@example.com", DEFAULT_PASSWORD)
        owner_typo = [await login(known, "alice@example.com", "typo") for _ in range(4)]
    assert [r.status_code for r in spread] == [401] * 4 + [429] * 2
    assert new_device.status_code == 429
    assert owner.status_code == 200
    assert [r.status_code for r in owner_typo] == [401] * 3 + [429]  # its own strict allowance


async def test_wrong_current_passwords_are_limited_per_account(
    make_app: Callable[..., Any], database: Any
) -> None:
    """Each wrong `current_password` costs a hash: PATCH /users/me and POST /users/me/email
    share one per-account allowance (RATE_LIMIT_PASSWORD_CHECK)."""
    user = await create_user(database, "alice@example.com")
    async with make_app(RATE_LIMIT_PASSWORD_CHECK="3/15m") as app, client_for(app) as client:
        change = {"password": "a new long password", "current_password": "wrong"}
        patched = [await client.patch(ME, json=change, headers=bearer(user)) for _ in range(2)]
        right = {**change, "current_password": DEFAULT_PASSWORD}
        assert (await client.patch(ME, json=right, headers=bearer(user))).status_code == 200
        fresh = await login(client, "alice@example.com", "a new long password")
        headers = bearer_of(fresh.json()["access_token"])
        moving = {"email": "new@example.com", "current_password": "wrong"}
        emailed = await client.post(f"{ME}/email", json=moving, headers=headers)
        refused = await client.patch(ME, json=change, headers=headers)
        renamed = await client.patch(ME, json={"full_name": "A"}, headers=headers)
    assert [r.status_code for r in patched] == [422, 422]
    assert emailed.status_code == 422
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert renamed.status_code == 200  # no password checked, nothing to limit


async def test_failed_logins_are_limited_per_address_across_accounts(
    make_app: Callable[..., Any],
) -> None:
    async with make_app(RATE_LIMIT_LOGIN_IP="2/15m") as app, client_for(app) as client:
        answers = [await login(client, f"nobody{n}@example.com", "guess") for n in range(3)]
    assert [r.status_code for r in answers] == [401, 401, 429]


async def test_concurrent_password_guesses_get_exactly_the_allowed_attempts(
    make_app: Callable[..., Any], database: Any
) -> None:
    await create_user(database, "alice@example.com")
    env = {**PATIENT, "RATE_LIMIT_LOGIN_ACCOUNT": "3/15m"}
    async with make_app(**env) as app, client_for(app) as client:
        answers = await asyncio.gather(
            *(login(client, "alice@example.com", f"guess {n}") for n in range(9))
        )
    assert statuses(answers) == {401: 3, 429: 6}


async def test_registrations_are_limited_per_address(make_app: Callable[..., Any]) -> None:
    async with make_app(RATE_LIMIT_REGISTER_IP="2/1h") as app, client_for(app) as client:
        answers = [await register(client, f"new{n}@example.com") for n in range(3)]
        elsewhere = await register(client_at(app, "203.0.113.9"), "other@example.com")
    assert [r.status_code for r in answers] == [201, 201, 429]
    assert elsewhere.status_code == 201


async def test_a_raised_registration_limit_applies_after_a_restart(
    make_app: Callable[..., Any],
) -> None:
    """RATE_LIMIT_REGISTER_IP raised and the app restarted: the address the old limit had
    blocked registers at once. (On the services leg the buckets outlive the app in Redis; in
    process they start empty.)"""
    async with make_app(RATE_LIMIT_REGISTER_IP="2/1h") as app, client_for(app) as client:
        before = [await register(client, f"new{n}@example.com") for n in range(3)]
    async with make_app(RATE_LIMIT_REGISTER_IP="1000000000/60") as app, client_for(app) as client:
        after = await register(client, "after@example.com")
    assert [r.status_code for r in before] == [201, 201, 429]
    assert after.status_code == 201, after.text


# -- several processes and Redis outages (services leg) --------------------------------------------


async def test_two_app_instances_sharing_redis_hold_one_exact_limit(
    leg: Leg, make_app: Callable[..., Any]
) -> None:
    if not leg.is_services:
        pytest.skip("the embedded default is one process with its own counters")
    async with (
        make_app(**PATIENT, RATE_LIMIT_ANONYMOUS="6/1m") as first,
        make_app(**PATIENT, RATE_LIMIT_ANONYMOUS="6/1m") as second,
        client_for(first) as one,
        client_for(second) as two,
    ):
        requests = [one.get(ME) for _ in range(9)] + [two.get(ME) for _ in range(9)]
        answers = await asyncio.gather(*requests)
    assert statuses(answers) == {401: 6, 429: 12}


async def test_redis_down_fails_open_for_ordinary_routes(
    leg: Leg, make_app: Callable[..., Any], database: Any
) -> None:
    if leg.redis is None:
        pytest.skip("no Redis on the embedded default")
    user = await create_user(database)
    env = {"RATE_LIMIT_BACKEND_RETRY_SECONDS": "0", "RATE_LIMIT_ANONYMOUS": "1/1m"}
    async with make_app(**env) as app, client_for(app) as client:
        before = await client.get(ME, headers=bearer(user))
        leg.redis.stop()
        try:
            during = [await client.get(ME, headers=bearer(user)) for _ in range(3)]
            anonymous = [await client.get(ME) for _ in range(3)]
            logins = [await login(client, "alice@example.com", DEFAULT_PASSWORD) for _ in range(2)]
        finally:
            leg.redis.restart()
        after = await client.get(ME, headers=bearer(user))
    assert before.headers["X-RateLimit-Remaining"] == "599"
    assert [r.status_code for r in during] == [200, 200, 200]
    assert "X-RateLimit-Limit" not in during[0].headers
    assert [r.status_code for r in anonymous] == [401, 401, 401]  # the 1/min limit is not enforced
    assert [r.status_code for r in logins] == [200, 200]
    assert after.status_code == 200
    assert after.headers["X-RateLimit-Remaining"] == "599"  # Redis came back empty


async def test_redis_down_can_fail_closed_for_auth_routes(
    leg: Leg, make_app: Callable[..., Any], database: Any
) -> None:
    if leg.redis is None:
        pytest.skip("no Redis on the embedded default")
    user = await create_user(database)
    env = {"RATE_LIMIT_FAIL_CLOSED_AUTH": "true", "RATE_LIMIT_BACKEND_RETRY_SECONDS": "0"}
    async with make_app(**env) as app, client_for(app) as client:
        leg.redis.stop()
        try:
            refused_login = await login(client, "alice@example.com", DEFAULT_PASSWORD)
            refused_register = await register(client, "new@example.com")
            ordinary = await client.get(ME, headers=bearer(user))
        finally:
            leg.redis.restart()
        login_after = await login(client, "alice@example.com", DEFAULT_PASSWORD)
    assert refused_login.status_code == 503
    assert refused_login.json()["type"].endswith("/service-unavailable")
    assert refused_register.status_code == 503
    assert ordinary.status_code == 200
    assert login_after.status_code == 200
