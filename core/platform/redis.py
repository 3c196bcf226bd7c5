"""The shared Redis client, when REDIS_URL is set (the embedded default runs without one).

One factory for the three topologies: a single server, a master found through Redis Sentinel
(the client asks the sentinels again after a failover), or a Redis Cluster. Every Redis user —
limits, cache, realtime tickets and fan-out, the job queue — takes the client built here.
"""

from typing import Any, TypeAlias
from urllib.parse import urlsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from configs.redis import RedisSettings

RedisClient: TypeAlias = Redis | RedisCluster
"""What `create_redis` returns: a plain (or Sentinel-managed) client, or a cluster client."""


def hash_tag(tag: str) -> str:
    """`{tag}`: keys that carry the same tag share a Redis Cluster slot, so one script or
    transaction may touch them all. Braces inside `tag` are replaced (they would end it)."""
    return "{" + tag.replace("{", "(").replace("}", ")") + "}"


def _options(timeout_seconds: float) -> dict[str, Any]:
    return {
        "socket_timeout": timeout_seconds,
        "socket_connect_timeout": timeout_seconds,
        "decode_responses": False,
        "retry": Retry(NoBackoff(), retries=1),
    }


def _sentinel_master(settings: RedisSettings, timeout_seconds: float) -> Redis:
    assert settings.url is not None
    url = urlsplit(settings.url)
    database = int(url.path.strip("/") or 0)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        settings.sentinel_addresses(),
        sentinel_kwargs={"socket_timeout": timeout_seconds},
        **_options(timeout_seconds),
    )
    master: Redis = sentinel.master_for(
        settings.sentinel_master,
        db=database,
        username=url.username,
        password=url.password,
        ssl=url.scheme == "rediss",
        health_check_interval=30,
    )
    return master


def create_redis(settings: RedisSettings, *, timeout_seconds: float | None = None) -> RedisClient:
    """A pooled asyncio client whose every operation is bounded by `timeout_seconds` (default
    REDIS_TIMEOUT_SECONDS), for the topology the settings name.

    One immediate retry (a fresh connection after a dropped one) and no backoff: the callers —
    limits, cache, readiness — fail open or report, so a slow Redis must cost one timeout, not
    the client's default series of backed-off retries. Under Sentinel that fresh connection
    asks the sentinels for the master again, so a failover costs the requests in flight while
    it happens.
    """
    assert settings.url is not None, "Redis is off without REDIS_URL"
    seconds = settings.timeout_seconds if timeout_seconds is None else timeout_seconds
    if settings.sentinels:
        return _sentinel_master(settings, seconds)
    if settings.cluster:
        return RedisCluster.from_url(settings.url, **_options(seconds))
    return Redis.from_url(settings.url, health_check_interval=30, **_options(seconds))
