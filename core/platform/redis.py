"""The shared Redis client, when REDIS_URL is set (the embedded default runs without one)."""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def create_redis(url: str, *, timeout_seconds: float) -> Redis:
    """A pooled asyncio client whose every operation is bounded by `timeout_seconds`.

    One immediate retry (a fresh connection after a dropped one) and no backoff: the callers —
    limits, cache, readiness — fail open or report, so a slow Redis must cost one timeout, not
    the client's default series of backed-off retries.
    """
    return Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        health_check_interval=30,
        decode_responses=False,
        retry=Retry(NoBackoff(), retries=1),
    )
