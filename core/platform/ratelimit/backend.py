"""Rate-limit buckets: GCRA in Redis (one Lua call per check) or in process.

The algorithm is GCRA (a leaky bucket stored as one timestamp per key): `times` requests may come
in a burst, then one per `seconds / times`. The Redis check and update are one Lua script, so the
limit is exact under concurrency and across processes; the clock is Redis's own.

A bucket stores its timestamp with the emission interval it was charged at. The debt it holds
(timestamp minus now) is read as that many requests and re-measured at the rate in force now,
capped at one full period: after a rate is raised (or lowered), the requests a caller already
made count under the new rate at once, never under the old one.
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

from configs.ratelimit import Rate, RateLimitSettings
from core.platform.failopen import BackendGuard
from core.platform.redis import RedisClient, hash_tag

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

# A bucket's value is "<tat>:<emission>" (microseconds). Values without ":emission" (written
# before it was stored) are read at the current emission. Numbers are written with %d: tostring()
# keeps 14 digits and a microsecond timestamp has 16.
GCRA_LOAD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local function load(key, emission, period)
  local stored = redis.call('GET', key)
  if not stored then return now end
  local tat, charged = string.match(stored, '^(%d+):(%d+)$')
  tat = tonumber(tat or stored)
  charged = tonumber(charged or emission)
  if tat <= now then return now end
  local debt = tat - now
  if charged ~= emission then debt = math.ceil(debt / charged * emission) end
  if debt > period then debt = period end
  return now + debt
end
local function store(key, tat, emission)
  if tat <= now then
    redis.call('DEL', key)
  else
    redis.call('SET', key, string.format('%d:%d', tat, emission),
      'PX', string.format('%d', math.ceil((tat - now) / 1000)))
  end
end
"""

# KEYS: the buckets. ARGV[1]: cost; then per bucket: emission interval and period (microseconds).
# All buckets are updated only if every one allows the request.
# Returns {allowed, index of the bucket to report, remaining, retry-after us, reset-after us}.
_HIT = """
local allowed = 1
local retry = 0
local tats = {}
for i = 1, #KEYS do
  local emission = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local tat = load(KEYS[i], emission, period)
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
    store(KEYS[i], tat, emission)
  end
  local left = math.floor((now - (tat - period)) / emission)
  if left < 0 then left = 0 end
  if remaining < 0 or left < remaining then
    report, remaining, reset = i, left, tat - now
  end
end
return {allowed, report, remaining, retry, reset}
"""
GCRA_HIT = GCRA_LOAD + _HIT

# Gives `cost` back to each bucket (a login that succeeded is not a failed attempt).
_REFUND = """
for i = 1, #KEYS do
  local emission = tonumber(ARGV[2 * i])
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local tat = load(KEYS[i], emission, tonumber(ARGV[2 * i + 1]))
    store(KEYS[i], tat - emission * cost, emission)
  end
end
return 1
"""
GCRA_REFUND = GCRA_LOAD + _REFUND


@dataclass(frozen=True)
class Bucket:
    """One limited key and its rate. Buckets charged together carry the same `tag`, which
    puts their Redis keys in one Redis Cluster slot (one script may only touch one slot);
    untagged, a bucket's key is its own tag, so a cluster spreads the buckets."""

    key: str
    rate: Rate
    tag: str | None = None

    @property
    def redis_key(self) -> str:
        """`plinth:rl:{tag}:key`, or `plinth:rl:{key}` untagged."""
        if self.tag is None:
            return KEY_PREFIX + hash_tag(self.key)
        return KEY_PREFIX + hash_tag(self.tag) + ":" + self.key

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

    def __init__(self, redis: RedisClient, guard: BackendGuard) -> None:
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
        keys = [bucket.redis_key for bucket in buckets]
        result = await self.guard.call(lambda: self._hit(keys=keys, args=self._args(buckets, cost)))
        allowed, report, remaining, retry, reset = (int(value) for value in result)
        return _decision(buckets, bool(allowed), report - 1, remaining, retry, reset)

    async def refund(self, buckets: Sequence[Bucket], cost: int = 1) -> None:
        keys = [bucket.redis_key for bucket in buckets]
        await self.guard.call(lambda: self._refund(keys=keys, args=self._args(buckets, cost)))


class MemoryRateLimitBackend:
    """The same GCRA in process, for the embedded default (one process, no Redis).

    Checks never await, so they are atomic on the event loop; a lock makes them thread-safe too.
    At most `max_keys` buckets are kept: expired ones go first, then the least recently used.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._tats: dict[str, tuple[int, int]] = {}  # key -> (tat, emission it was charged at)
        self._lock = threading.Lock()

    @staticmethod
    def _now() -> int:
        return time.monotonic_ns() // 1000

    def _load(self, bucket: Bucket, now: int) -> int:
        """The bucket's timestamp with its debt re-measured at the bucket's current rate."""
        tat, charged = self._tats.get(bucket.key, (now, bucket.emission_us))
        debt = max(tat - now, 0)
        if charged != bucket.emission_us:
            debt = -(-debt * bucket.emission_us // charged)  # rounded up, as in the Lua script
        return now + min(debt, bucket.period_us)

    def _store(self, bucket: Bucket, tat: int, now: int) -> None:
        self._tats.pop(bucket.key, None)
        if tat <= now:
            return
        self._tats[bucket.key] = (tat, bucket.emission_us)
        if len(self._tats) > self.max_keys:
            for stale in [k for k, (v, _) in self._tats.items() if v <= now]:
                del self._tats[stale]
            while len(self._tats) > self.max_keys:
                del self._tats[next(iter(self._tats))]

    async def hit(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision:
        with self._lock:
            now = self._now()
            tats = [self._load(b, now) for b in buckets]
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
                    self._store(bucket, tat, now)
                left = max(0, (now - (tat - bucket.period_us)) // bucket.emission_us)
                if remaining < 0 or left < remaining:
                    report, remaining, reset = index, left, tat - now
        return _decision(buckets, allowed, report, remaining, retry, reset)

    async def refund(self, buckets: Sequence[Bucket], cost: int = 1) -> None:
        with self._lock:
            now = self._now()
            for bucket in buckets:
                if bucket.key in self._tats:
                    tat = self._load(bucket, now) - bucket.emission_us * cost
                    self._store(bucket, tat, now)


def rate_limit_backend(app: FastAPI) -> RateLimitBackend:
    """The app's backend, built on first use: Redis when `app.state.redis` is set, else memory."""
    backend: RateLimitBackend | None = getattr(app.state, "ratelimit_backend", None)
    if backend is None:
        settings: RateLimitSettings = app.state.settings.ratelimit
        redis: RedisClient | None = getattr(app.state, "redis", None)
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
