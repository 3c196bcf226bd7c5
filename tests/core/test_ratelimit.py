"""Rate-limit buckets on this leg's backend (Redis on services, in process on embedded)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from configs.ratelimit import Rate, RateLimitSettings
from core.platform.failopen import BackendGuard
from core.platform.ratelimit import RateLimiter
from core.platform.ratelimit.backend import (
    RATE_LIMIT_BACKEND_ERRORS,
    Bucket,
    MemoryRateLimitBackend,
    RateLimitBackend,
    RedisRateLimitBackend,
)
from core.platform.ratelimit.limiter import account_key, multiplier_for
from core.security import Principal
from tests.conftest import Leg
from tests.ports import refused_port


def _guard(timeout: float = 5.0) -> BackendGuard:
    import logging

    return BackendGuard(
        "test",
        timeout_seconds=timeout,
        retry_seconds=0,
        errors=RATE_LIMIT_BACKEND_ERRORS,
        logger=logging.getLogger("test"),
    )


@pytest.fixture
async def backend(leg: Leg) -> AsyncIterator[RateLimitBackend]:
    """The backend an app on this leg uses."""
    if leg.redis_url is None:
        yield MemoryRateLimitBackend()
        return
    from redis.asyncio import Redis

    client = Redis.from_url(leg.redis_url)
    try:
        yield RedisRateLimitBackend(client, _guard())
    finally:
        await client.aclose()


def per_minute(times: int, key: str = "k") -> list[Bucket]:
    return [Bucket(key, Rate(times=times, seconds=60))]


async def test_exactly_the_limit_passes_under_three_times_concurrent_overload(
    backend: RateLimitBackend,
) -> None:
    decisions = await asyncio.gather(*(backend.hit(per_minute(10)) for _ in range(30)))
    assert sum(decision.allowed for decision in decisions) == 10
    refused = [decision for decision in decisions if not decision.allowed]
    assert all(decision.remaining == 0 for decision in refused)
    assert all(0 < decision.retry_after <= 6 for decision in refused)


async def test_remaining_counts_down_and_reset_is_within_the_period(
    backend: RateLimitBackend,
) -> None:
    first = await backend.hit(per_minute(3))
    second = await backend.hit(per_minute(3))
    assert (first.limit, first.remaining) == (3, 2)
    assert second.remaining == 1
    assert 0 < second.reset_after <= 60


async def test_keys_are_independent(backend: RateLimitBackend) -> None:
    assert (await backend.hit(per_minute(1, "a"))).allowed
    assert not (await backend.hit(per_minute(1, "a"))).allowed
    assert (await backend.hit(per_minute(1, "b"))).allowed


async def test_several_buckets_are_charged_all_or_none(backend: RateLimitBackend) -> None:
    tight = Bucket("tight", Rate(times=1, seconds=60))
    loose = Bucket("loose", Rate(times=5, seconds=60))
    assert (await backend.hit([loose, tight])).allowed
    refused = await backend.hit([loose, tight])
    assert not refused.allowed
    assert refused.limit == 1  # the headers report the bucket that is out
    # the refused hit did not charge the loose bucket: 4 of 5 are left
    assert (await backend.hit([loose])).remaining == 3


async def test_refund_gives_the_attempt_back(backend: RateLimitBackend) -> None:
    buckets = per_minute(2)
    await backend.hit(buckets)
    await backend.hit(buckets)
    assert not (await backend.hit(buckets)).allowed
    await backend.refund(buckets)
    assert (await backend.hit(buckets)).allowed


async def test_an_uneven_rate_still_allows_its_full_burst(backend: RateLimitBackend) -> None:
    # 7 per minute: the emission interval (8.571 s) is not a whole number of microseconds
    decisions = [await backend.hit(per_minute(7)) for _ in range(8)]
    assert [d.allowed for d in decisions] == [True] * 7 + [False]


async def test_raising_a_rate_frees_a_caller_the_older_stricter_rate_blocked(
    backend: RateLimitBackend,
) -> None:
    """The report from the field: registrations at 20/1h used up, the limit raised to a billion
    per minute, and the caller was still told to wait minutes."""
    strict = [Bucket("register", Rate(times=20, seconds=3600))]
    for _ in range(20):
        assert (await backend.hit(strict)).allowed
    assert not (await backend.hit(strict)).allowed
    raised = await backend.hit([Bucket("register", Rate(times=1_000_000_000, seconds=60))])
    assert raised.allowed
    assert raised.remaining > 1_000_000  # (one emission per microsecond at most: 60 million)


async def test_requests_already_made_count_under_the_new_rate(backend: RateLimitBackend) -> None:
    """One of 2/min used, then 4/min: three more now (not one, not four), then a wait of at most
    one new interval (15 s)."""
    assert (await backend.hit(per_minute(2))).allowed
    decisions = [await backend.hit(per_minute(4)) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 0 < decisions[-1].retry_after <= 15


async def test_lowering_a_rate_counts_at_most_one_full_period(backend: RateLimitBackend) -> None:
    for _ in range(10):
        assert (await backend.hit(per_minute(10))).allowed
    lowered = await backend.hit(per_minute(5))
    assert not lowered.allowed
    assert 0 < lowered.retry_after <= 12  # one interval of 5/min, not the 72 s of 10 requests


async def test_an_unchanged_rate_is_not_affected_by_the_stored_interval(
    backend: RateLimitBackend,
) -> None:
    decisions = [await backend.hit(per_minute(3)) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 19 < decisions[-1].retry_after <= 20


async def test_unreachable_redis_raises_backend_unavailable_quickly() -> None:
    from redis.asyncio import Redis

    from core.platform.failopen import BackendUnavailable

    with refused_port() as port:
        client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.2)
        try:
            unreachable = RedisRateLimitBackend(client, _guard(timeout=0.3))
            with pytest.raises(BackendUnavailable):
                await unreachable.hit(per_minute(1))
        finally:
            await client.aclose()


def test_memory_backend_keeps_a_bounded_number_of_keys() -> None:
    backend = MemoryRateLimitBackend(max_keys=5)

    async def fill() -> None:
        for index in range(50):
            await backend.hit(per_minute(1, f"key-{index}"))

    asyncio.run(fill())
    assert len(backend._tats) <= 5


@pytest.mark.parametrize(
    ("text", "times", "seconds"),
    [
        ("600/1m", 600, 60),
        ("30/15m", 30, 900),
        ("20/h", 20, 3600),
        ("5/30s", 5, 30),
        ("9/90", 9, 90),
    ],
)
def test_rates_are_read_from_settings_text(text: str, times: int, seconds: float) -> None:
    assert Rate.parse(text) == Rate(times=times, seconds=seconds)


@pytest.mark.parametrize("text", ["600", "x/1m", "0/1m", "5/0s", "5/1w"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        Rate.parse(text)


def test_bad_trusted_proxy_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1,not-an-ip")
    with pytest.raises(ValueError, match="not-an-ip"):
        RateLimitSettings.load()


def test_framework_rates_are_read_from_the_environment_and_bad_ones_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RATE_LIMIT_API_KEY", "50/30s")
    assert RateLimitSettings.load().api_key == Rate(times=50, seconds=30)
    monkeypatch.setenv("RATE_LIMIT_USER", "often")
    with pytest.raises(ValueError, match="a rate looks like 600/1m"):
        RateLimitSettings.load()


def test_settings_defaults_match_the_documented_limits() -> None:
    from app.users.limits import UserLimits

    settings = RateLimitSettings()
    assert (settings.user, settings.anonymous) == (Rate.parse("600/1m"), Rate.parse("120/1m"))
    own = UserLimits()
    assert own.login_account_client == Rate.parse("10/15m")
    assert own.login_account == Rate.parse("100/15m")  # the far higher ceiling (#24)
    assert own.password_check == Rate.parse("10/15m")
    assert own.login_ip == Rate.parse("30/15m")
    assert own.register_ip == Rate.parse("20/1h")


def test_the_highest_scope_multiplier_applies() -> None:
    import uuid

    multipliers = {"admin": 5.0, "superuser": 10.0}
    admin = Principal(id=uuid.uuid4(), scopes=frozenset({"regular", "admin"}))
    regular = Principal(id=uuid.uuid4(), scopes=frozenset({"regular"}))
    assert multiplier_for(admin, multipliers) == 5.0
    assert multiplier_for(regular, multipliers) == 1.0
    assert multiplier_for(None, multipliers) == 1.0


def test_account_keys_hide_the_address_and_ignore_case() -> None:
    assert account_key("Alice@Example.com ") == account_key("alice@example.com")
    assert "alice" not in account_key("alice@example.com")


@pytest.mark.parametrize(
    "kwargs", [{}, {"times": 5}, {"times": 5, "seconds": 60, "rate": Rate(times=5, seconds=60)}]
)
def test_a_limiter_needs_exactly_one_rate(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="either"):
        RateLimiter(**kwargs)
