"""The shared Redis client, when REDIS_URL is set (the embedded default runs without one)."""

from redis.asyncio import Redis


def create_redis(url: str, *, timeout_seconds: float) -> Redis:
    """A pooled asyncio client whose every operation is bounded by `timeout_seconds`."""
    return Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        health_check_interval=30,
        decode_responses=False,
    )
