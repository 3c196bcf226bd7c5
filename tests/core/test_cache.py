"""The response cache's store on this leg (Redis on services, in process on embedded)."""

import logging
from collections.abc import AsyncIterator

import pytest

from core.platform.cache import (
    CACHE_BACKEND_ERRORS,
    CacheBackend,
    CachedResponse,
    MemoryCacheBackend,
    RedisCacheBackend,
    _matches,
    cache,
)
from core.platform.failopen import BackendGuard, BackendUnavailable
from tests.conftest import Leg
from tests.ports import refused_port


def _guard() -> BackendGuard:
    return BackendGuard(
        "test",
        timeout_seconds=0.3,
        retry_seconds=0,
        errors=CACHE_BACKEND_ERRORS,
        logger=logging.getLogger("test"),
    )


@pytest.fixture
async def backend(leg: Leg) -> AsyncIterator[CacheBackend]:
    if leg.redis_url is None:
        yield MemoryCacheBackend()
        return
    from redis.asyncio import Redis

    client = Redis.from_url(leg.redis_url)
    try:
        yield RedisCacheBackend(client, _guard())
    finally:
        await client.aclose()


async def test_entries_round_trip(backend: CacheBackend) -> None:
    entry = CachedResponse(status=200, media_type="application/json", body=b'{"a":\n1}')
    await backend.set("k", entry.encode(), 60)
    raw = await backend.get("k")
    assert raw is not None
    assert CachedResponse.decode(raw) == entry
    assert await backend.get("missing") is None


async def test_bumping_a_namespace_changes_only_its_version(backend: CacheBackend) -> None:
    assert await backend.version("users") == 0
    await backend.bump("users")
    await backend.bump("users")
    assert await backend.version("users") == 2
    assert await backend.version("threads") == 0


async def test_a_lookup_reads_the_version_and_the_entry_together(backend: CacheBackend) -> None:
    assert await backend.lookup("users", "k") == (0, None)
    await backend.set("k", b"entry", 60)
    await backend.bump("users")
    assert await backend.lookup("users", "k") == (1, b"entry")
    assert await backend.lookup("threads", "k") == (0, b"entry")


async def test_memory_entries_expire_and_stay_bounded() -> None:
    store = MemoryCacheBackend(max_entries=3)
    for index in range(10):
        await store.set(f"k{index}", b"v", 60)
    assert await store.get("k0") is None  # least recently used went first
    assert await store.get("k9") == b"v"
    assert len(store._entries) == 3
    store._entries["old"] = (0.0, b"v")  # an entry whose time is up
    assert await store.get("old") is None


async def test_an_unreachable_redis_raises_backend_unavailable() -> None:
    from redis.asyncio import Redis

    with refused_port() as port:
        client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.2)
        try:
            with pytest.raises(BackendUnavailable):
                await RedisCacheBackend(client, _guard()).version("users")
        finally:
            await client.aclose()


async def test_a_failed_bump_is_retried_before_the_next_read(leg: Leg) -> None:
    if leg.redis_url is None:
        pytest.skip("no Redis on the embedded default")
    from redis.asyncio import Redis

    client = Redis.from_url(leg.redis_url)
    try:
        store = RedisCacheBackend(client, _guard())
        store._pending_bumps.add("users")  # as if Redis had been down during a write
        assert (await store.lookup("users", "k"))[0] == 1
        assert await store.version("users") == 1
    finally:
        await client.aclose()


def test_etags_are_stable_hashes_of_the_body() -> None:
    one = CachedResponse(200, "application/json", b"{}")
    assert one.etag == CachedResponse(200, "application/json", b"{}").etag
    assert one.etag != CachedResponse(200, "application/json", b"[]").etag
    assert one.etag.startswith('"') and one.etag.endswith('"')


@pytest.mark.parametrize(
    ("header", "matches"),
    [(None, False), ('"abc"', True), ('W/"abc"', True), ('"x", "abc"', True), ("*", True),
     ('"abcd"', False)],
)  # fmt: skip
def test_if_none_match_accepts_lists_weak_tags_and_star(header: str | None, matches: bool) -> None:
    assert _matches(header, '"abc"') is matches


def test_only_async_endpoints_can_be_cached() -> None:
    def endpoint() -> dict[str, str]:
        return {}

    with pytest.raises(TypeError, match="async"):
        cache(expire=5)(endpoint)  # type: ignore[arg-type]


def test_a_zero_expiry_is_refused() -> None:
    with pytest.raises(ValueError, match="expire"):
        cache(expire=0)
