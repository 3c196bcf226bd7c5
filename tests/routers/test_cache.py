"""Response caching through HTTP: per caller, fresh after writes, ETag / 304, fails open."""

from collections.abc import Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from core.deps import PrincipalDep
from core.platform.cache import cache
from routers.gates import gates
from tests.app.users.support import API
from tests.conftest import Leg, client_for
from tests.helpers import bearer, create_user


def add_whoami(app: FastAPI) -> None:
    """A cached route whose answer depends on the caller."""
    router = APIRouter()

    @router.get("/whoami")
    @cache(expire=60, namespace="whoami")
    async def whoami(principal: PrincipalDep) -> dict[str, str]:
        assert principal is not None
        return {"id": str(principal.id)}

    app.include_router(router, prefix="/test", dependencies=gates.AUTHENTICATED)


async def test_one_users_cached_answer_is_never_served_to_another(
    make_app: Callable[..., Any], database: Any
) -> None:
    alice = await create_user(database, "alice@example.com")
    bob = await create_user(database, "bob@example.com")
    async with make_app() as app, client_for(app) as client:
        add_whoami(app)
        alice_first = await client.get("/test/whoami", headers=bearer(alice))
        alice_again = await client.get("/test/whoami", headers=bearer(alice))
        bob_first = await client.get("/test/whoami", headers=bearer(bob))
        bob_again = await client.get("/test/whoami", headers=bearer(bob))
    assert alice_first.json() == alice_again.json() == {"id": str(alice.id)}
    assert bob_first.json() == bob_again.json() == {"id": str(bob.id)}
    assert [r.headers["X-Cache"] for r in (alice_first, alice_again)] == ["MISS", "HIT"]
    assert [r.headers["X-Cache"] for r in (bob_first, bob_again)] == ["MISS", "HIT"]
    assert alice_again.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in alice_again.headers["Vary"]


async def test_a_hit_is_answered_before_the_routes_own_dependencies(
    make_app: Callable[..., Any], database: Any
) -> None:
    """The controller, its session and the parsed query of a route are not built for a hit."""
    alice = await create_user(database, "alice@example.com")
    built: list[int] = []

    async def expensive() -> int:
        built.append(1)
        return len(built)

    router = APIRouter()

    @router.get("/counted")
    @cache(expire=60, namespace="counted")
    async def counted(n: Annotated[int, Depends(expensive)], q: str = "") -> dict[str, Any]:
        return {"n": n, "q": q}

    async with make_app() as app, client_for(app) as client:
        app.include_router(router, prefix="/test", dependencies=gates.AUTHENTICATED)
        first = await client.get("/test/counted", params={"q": "x"}, headers=bearer(alice))
        again = await client.get("/test/counted", params={"q": "x"}, headers=bearer(alice))
        anonymous = await client.get("/test/counted", params={"q": "x"})
    assert [r.headers["X-Cache"] for r in (first, again)] == ["MISS", "HIT"]
    assert first.json() == again.json() == {"n": 1, "q": "x"} and built == [1]
    assert anonymous.status_code == 401  # the gate runs before the lookup


async def test_an_admin_read_is_served_from_the_cache_with_its_headers(
    client: httpx.AsyncClient, database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com", full_name="Bob")
    first = await client.get(f"{API}/users/{bob.id}", headers=bearer(admin))
    second = await client.get(f"{API}/users/{bob.id}", headers=bearer(admin))
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.json() == second.json()
    assert second.json()["full_name"] == "Bob"
    assert "hashed_password" not in second.json()  # the response model applied before caching
    assert second.headers["content-type"] == "application/json"
    assert second.headers["ETag"] == first.headers["ETag"]
    # rate-limit headers are kept on hits (admins get 5 x 600 by default)
    assert second.headers["X-RateLimit-Limit"] == "3000"
    assert int(second.headers["X-RateLimit-Remaining"]) < 3000


async def test_a_write_invalidates_the_cached_read(
    client: httpx.AsyncClient, database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com", full_name="Bob")
    url = f"{API}/users/{bob.id}"
    await client.get(url, headers=bearer(admin))
    assert (await client.get(url, headers=bearer(admin))).headers["X-Cache"] == "HIT"
    changed = await client.patch(url, json={"full_name": "Robert"}, headers=bearer(admin))
    assert changed.status_code == 200
    after = await client.get(url, headers=bearer(admin))
    assert after.headers["X-Cache"] == "MISS"
    assert after.json()["full_name"] == "Robert"
    # a write by the user himself, through another router, invalidates it too
    await client.patch(f"{API}/users/me", json={"full_name": "Bobby"}, headers=bearer(bob))
    assert (await client.get(url, headers=bearer(admin))).json()["full_name"] == "Bobby"


async def test_a_failed_write_does_not_invalidate(client: httpx.AsyncClient, database: Any) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com")
    url = f"{API}/users/{bob.id}"
    await client.get(url, headers=bearer(admin))
    refused = await client.patch(url, json={"scopes": ["admin"]}, headers=bearer(admin))
    assert refused.status_code == 422
    assert (await client.get(url, headers=bearer(admin))).headers["X-Cache"] == "HIT"


async def test_query_parameters_are_part_of_the_key(
    client: httpx.AsyncClient, database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    await create_user(database, "bob@example.com")
    one = await client.get(f"{API}/users?limit=1", headers=bearer(admin))
    two = await client.get(f"{API}/users?limit=2", headers=bearer(admin))
    assert (one.headers["X-Cache"], two.headers["X-Cache"]) == ("MISS", "MISS")
    assert (len(one.json()["items"]), len(two.json()["items"])) == (1, 2)
    again = await client.get(f"{API}/users?limit=1", headers=bearer(admin))
    assert again.headers["X-Cache"] == "HIT"
    # a registration adds a row to the list: the cached pages are dropped
    body = {"email": "carol@example.com", "password": "correct horse battery"}
    assert (await client.post(f"{API}/auth/register", json=body)).status_code == 201
    fresh = await client.get(f"{API}/users?limit=2", headers=bearer(admin))
    assert fresh.headers["X-Cache"] == "MISS"
    assert fresh.json()["total"] == 3


async def test_if_none_match_gets_304_until_the_entity_changes(
    client: httpx.AsyncClient, database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com")
    url = f"{API}/users/{bob.id}"
    first = await client.get(url, headers=bearer(admin))
    etag = first.headers["ETag"]
    revalidated = await client.get(url, headers={**bearer(admin), "If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["ETag"] == etag
    other = await client.get(url, headers={**bearer(admin), "If-None-Match": '"stale"'})
    assert other.status_code == 200
    await client.patch(url, json={"full_name": "Robert"}, headers=bearer(admin))
    changed = await client.get(url, headers={**bearer(admin), "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["full_name"] == "Robert"


async def test_errors_are_not_cached(client: httpx.AsyncClient, database: Any) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    url = f"{API}/users/01890000-0000-7000-8000-000000000000"
    assert (await client.get(url, headers=bearer(admin))).status_code == 404
    again = await client.get(url, headers=bearer(admin))
    assert again.status_code == 404
    assert "X-Cache" not in again.headers


async def test_caching_can_be_turned_off(make_app: Callable[..., Any], database: Any) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    async with make_app(CACHE_ENABLED="false") as app, client_for(app) as client:
        answers = [await client.get(f"{API}/users/{admin.id}", headers=bearer(admin)) for _ in "ab"]
    assert [r.status_code for r in answers] == [200, 200]
    assert "X-Cache" not in answers[1].headers


async def test_several_workers_without_redis_do_not_cache(
    leg: Leg, make_app: Callable[..., Any], database: Any
) -> None:
    if leg.redis_url is not None:
        pytest.skip("with Redis every worker shares one cache")
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    async with make_app(APP_WORKERS="2") as app, client_for(app) as client:
        answers = [await client.get(f"{API}/users/{admin.id}", headers=bearer(admin)) for _ in "ab"]
    assert [r.headers["X-Cache"] for r in answers] == ["MISS", "MISS"]


async def test_a_write_through_one_instance_is_seen_by_another(
    leg: Leg, make_app: Callable[..., Any], database: Any
) -> None:
    if not leg.is_services:
        pytest.skip("the embedded default is one process")
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com", full_name="Bob")
    url = f"{API}/users/{bob.id}"
    async with (
        make_app() as first,
        make_app() as second,
        client_for(first) as reader,
        client_for(second) as writer,
    ):
        await reader.get(url, headers=bearer(admin))
        assert (await reader.get(url, headers=bearer(admin))).headers["X-Cache"] == "HIT"
        shared = await writer.get(url, headers=bearer(admin))
        assert shared.headers["X-Cache"] == "HIT"  # one Redis, one cache
        await writer.patch(url, json={"full_name": "Robert"}, headers=bearer(admin))
        after = await reader.get(url, headers=bearer(admin))
    assert after.headers["X-Cache"] == "MISS"
    assert after.json()["full_name"] == "Robert"


async def test_redis_down_serves_uncached(
    leg: Leg, make_app: Callable[..., Any], database: Any
) -> None:
    if leg.redis is None:
        pytest.skip("no Redis on the embedded default")
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    url = f"{API}/users/{admin.id}"
    env = {"CACHE_BACKEND_RETRY_SECONDS": "0", "RATE_LIMIT_BACKEND_RETRY_SECONDS": "0"}
    async with make_app(**env) as app, client_for(app) as client:
        await client.get(url, headers=bearer(admin))
        leg.redis.stop()
        try:
            during = [await client.get(url, headers=bearer(admin)) for _ in range(2)]
            write = await client.patch(url, json={"full_name": "New"}, headers=bearer(admin))
        finally:
            leg.redis.restart()
        after = [await client.get(url, headers=bearer(admin)) for _ in range(2)]
    assert [r.status_code for r in during] == [200, 200]
    assert [r.headers["X-Cache"] for r in during] == ["MISS", "MISS"]
    assert write.status_code == 200
    assert [r.headers["X-Cache"] for r in after] == ["MISS", "HIT"]
    assert after[1].json()["full_name"] == "New"


def _sample(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_hits_misses_and_rejections(
    make_app: Callable[..., Any], database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    hits = 'plinth_cache_hits_total{namespace="users"}'
    misses = 'plinth_cache_misses_total{namespace="users"}'
    rejections = 'plinth_ratelimit_rejections_total{limit="api"}'
    async with make_app(RATE_LIMIT_ANONYMOUS="1/1m") as app, client_for(app) as client:
        before = (await client.get("/metrics")).text
        for _ in range(3):
            await client.get(f"{API}/users/{admin.id}", headers=bearer(admin))
        for _ in range(2):
            await client.get(f"{API}/users/me")
        after = (await client.get("/metrics")).text
    assert _sample(after, misses) - _sample(before, misses) == 1
    assert _sample(after, hits) - _sample(before, hits) == 2
    assert _sample(after, rejections) - _sample(before, rejections) == 1
