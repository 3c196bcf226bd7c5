"""Rate-limit buckets: GCRA in Redis (one Lua call per check) or in process.

The algorithm is GCRA (a leaky bucket stored as one timestamp per key): `times` requests may come
in a burst, then one per `seconds / times`. The Redis check and update are one Lua script, so the
limit is exact under concurrency and across processes; the clock is Redis's own.
"""

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fastapi import FastAPI
from prometheus_client import Counter
from redis.asyncio import Redis

from configs.ratelimit import Rate, RateLimitSettings
from core.platform.failopen import BackendGuard

logger = logging.getLogger("plinth.ratelimit")

RATE_LIMIT_REJECTIONS = Counter(
    "plinth_ratelimit_rejections_total", "Requests refused by a rate limit.", ["limit"]
)
RATE_LIMIT_BACKEND_ERRORS = Counter(
    "plinth_ratelimit_backend_errors_total",
    "Rate-limit checks that could not reach Redis (failed open, or 503 when fail-closed).",
)

KEY_PREFIX = "plinth:rl:"
LIMIT_HEADER = "X-RateLimit-Limit"
REMAINING_HEADER = "X-RateLimit-Remaining"
RESET_HEADER = "X-RateLimit-Reset"
MICROSECONDS = 1_000_000
HEADERS_STATE = "ratelimit_headers"

# KEYS: the buckets. ARGV[1]: cost; then per bucket: emission interval and period (microseconds).
# All buckets are updated only if every one allows the request. Numbers are written with %d:
# tostring() keeps 14 digits and a microsecond timestamp has 16.
# Returns {allowed, index of the bucket to report, remaining, retry-after us, reset-after us}.
GCRA_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local allowed = 1
local retry = 0
local tats = {}
for i = 1, #KEYS do
  local emission = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tats[i] = tat
  local allow_at = tat + emission * cost - period
  if allow_at > now then
    allowed = 0
    if allow_at - now > retry then retry = allow_at - now end
  end
end
local report, remaining, reset = 1, -1, 0
for i = 1, #KEYS do
  local emission = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local tat = tats[i]
  if allowed == 1 then
    tat = tat + emission * cost
    redis.call('SET', KEYS[i], string.format('%d', tat),
      'PX', string.format('%d', math.ceil((tat - now) / 1000)))
  end
  local left = math.floor((now - (tat - period)) / emission)
  if left < 0 then left = 0 end
  if remaining < 0 or left < remaining then
    report, remaining, reset = i, left, tat - now
  end
end
return {allowed, report, remaining, retry, reset}
"""

# Gives `cost` back to each bucket (a login that succeeded is not a failed attempt).
GCRA_REFUND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat then
    tat = tat - tonumber(ARGV[2 * i]) * cost
    if tat <= now then
      redis.call('DEL', KEYS[i])
    else
      redis.call('SET', KEYS[i], string.format('%d', tat),
        'PX', string.format('%d', math.ceil((tat - now) / 1000)))
    end
  end
end
return 1
"""


@dataclass(frozen=True)
class Bucket:
    """One limited key and its rate."""

    key: str
    rate: Rate

    @property
    def period_us(self) -> int:
        return int(self.rate.seconds * MICROSECONDS)

    @property
    def emission_us(self) -> int:
        # Rounded down, so a full burst of `times` always fits in the period.
        return max(1, self.period_us // self.rate.times)


@dataclass(frozen=True)
class Decision:
    """The outcome of a check, with what the headers report (the tightest bucket)."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    reset_after: float

    def headers(self) -> dict[str, str]:
        """X-RateLimit-Limit / -Remaining / -Reset (seconds until the bucket is full again)."""
        return {
            LIMIT_HEADER: str(self.limit),
            REMAINING_HEADER: str(self.remaining),
            RESET_HEADER: str(math.ceil(self.reset_after)),
        }


class RateLimitBackend(Protocol):
    """Where buckets live. `hit` is atomic over all its buckets: all are charged or none."""

    async def hit(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision: ...

    async def refund(self, buckets: Sequence[Bucket], cost: int = 1) -> None: ...


def _decision(
    buckets: Sequence[Bucket], allowed: bool, report: int, remaining: int, retry: int, reset: int
) -> Decision:
    return Decision(
        allowed=allowed,
        limit=buckets[report].rate.times,
        remaining=remaining,
        retry_after=retry / MICROSECONDS,
        reset_after=reset / MICROSECONDS,
    )


class RedisRateLimitBackend:
    """Buckets in Redis: one Lua call per check, exact across processes and machines."""

    def __init__(self, redis: Redis, guard: BackendGuard) -> None:
        self.guard = guard
        self._hit = redis.register_script(GCRA_HIT)
        self._refund = redis.register_script(GCRA_REFUND)

    @staticmethod
    def _args(buckets: Sequence[Bucket], cost: int) -> list[int]:
        args = [cost]
        for bucket in buckets:
            args += [bucket.emission_us, bucket.period_us]
        return args

    async def hit(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision:
        keys = [KEY_PREFIX + bucket.key for bucket in buckets]
        result = await self.guard.call(lambda: self._hit(keys=keys, args=self._args(buckets, cost)))
        allowed, report, remaining, retry, reset = (int(value) for value in result)
        return _decision(buckets, bool(allowed), report - 1, remaining, retry, reset)

    async def refund(self, buckets: Sequence[Bucket], cost: int = 1) -> None:
        keys = [KEY_PREFIX + bucket.key for bucket in buckets]
        await self.guard.call(lambda: self._refund(keys=keys, args=self._args(buckets, cost)))


class MemoryRateLimitBackend:
    """The same GCRA in process, for the embedded default (one process, no Redis).

    Checks never await, so they are atomic on the event loop; a lock makes them thread-safe too.
    At most `max_keys` buckets are kept: expired ones go first, then the least recently used.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._tats: dict[str, int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _now() -> int:
        return time.monotonic_ns() // 1000

    def _store(self, key: str, tat: int, now: int) -> None:
        self._tats.pop(key, None)
        self._tats[key] = tat
        if len(self._tats) > self.max_keys:
            for stale in [k for k, v in self._tats.items() if v <= now]:
                del self._tats[stale]
            while len(self._tats) > self.max_keys:
                del self._tats[next(iter(self._tats))]

    async def hit(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision:
        with self._lock:
            now = self._now()
            tats = [max(self._tats.get(b.key, now), now) for b in buckets]
            allow_at = [
                tat + b.emission_us * cost - b.period_us
                for tat, b in zip(tats, buckets, strict=True)
            ]
            allowed = all(at <= now for at in allow_at)
            retry = max([at - now for at in allow_at if at > now], default=0)
            report, remaining, reset = 0, -1, 0
            for index, (tat, bucket) in enumerate(zip(tats, buckets, strict=True)):
                if allowed:
                    tat += bucket.emission_us * cost
                    self._store(bucket.key, tat, now)
                left = max(0, (now - (tat - bucket.period_us)) // bucket.emission_us)
                if remaining < 0 or left < remaining:
                    report, remaining, reset = index, left, tat - now
        return _decision(buckets, allowed, report, remaining, retry, reset)

    async def refund(self, buckets: Sequence[Bucket], cost: int = 1) -> None:
        with self._lock:
            now = self._now()
            for bucket in buckets:
                tat = self._tats.get(bucket.key)
                if tat is None:
                    continue
                tat -= bucket.emission_us * cost
                if tat <= now:
                    del self._tats[bucket.key]
                else:
                    self._tats[bucket.key] = tat


def rate_limit_backend(app: FastAPI) -> RateLimitBackend:
    """The app's backend, built on first use: Redis when `app.state.redis` is set, else memory."""
    backend: RateLimitBackend | None = getattr(app.state, "ratelimit_backend", None)
    if backend is None:
        settings: RateLimitSettings = app.state.settings.ratelimit
        redis: Redis | None = getattr(app.state, "redis", None)
        if redis is None:
            workers = app.state.settings.app.workers
            if workers > 1:
                logger.warning(
                    "in-process rate limits are per worker (%d workers): set REDIS_URL", workers
                )
            backend = MemoryRateLimitBackend(settings.memory_max_keys)
        else:
            guard = BackendGuard(
                "rate-limit",
                timeout_seconds=settings.backend_timeout_seconds,
                retry_seconds=settings.backend_retry_seconds,
                errors=RATE_LIMIT_BACKEND_ERRORS,
                logger=logger,
            )
            backend = RedisRateLimitBackend(redis, guard)
        app.state.ratelimit_backend = backend
    return backend
