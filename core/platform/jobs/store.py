"""The small shared state around the queue: cron-tick claims, once-only side effects, delivery
counts and worker heartbeats. Redis when REDIS_URL is set, else an in-process stand-in (one
process: the embedded default)."""

import time
from typing import Any, Protocol

KEY_PREFIX = "plinth:jobs"


class JobStore(Protocol):
    """What the scheduler, the runner and the health check share between processes."""

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        """True for the first caller to claim `key` until it expires; False for the rest."""
        ...

    async def release(self, key: str) -> None:
        """Drop the claim on `key`."""
        ...

    async def count_delivery(self, task_id: str, ttl_seconds: float) -> int:
        """How many times the message `task_id` has been delivered, this one included."""
        ...

    async def forget_delivery(self, task_id: str) -> None:
        """The message is done: drop its delivery count."""
        ...

    async def beat(self, worker: str) -> None:
        """Record that `worker` is alive now."""
        ...

    async def leave(self, worker: str) -> None:
        """`worker` stopped."""
        ...

    async def workers_alive(self, within_seconds: float) -> int:
        """Workers whose last heartbeat is at most `within_seconds` old."""
        ...


class RedisJobStore:
    """`JobStore` on Redis: SET NX for claims, INCR for deliveries, a sorted set of heartbeats."""

    def __init__(self, redis: Any, prefix: str = KEY_PREFIX) -> None:
        self.redis = redis
        self.prefix = prefix

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        """SET NX PX: atomic, so exactly one process wins."""
        ttl_ms = max(int(ttl_seconds * 1000), 1)
        return bool(await self.redis.set(f"{self.prefix}:claim:{key}", b"1", nx=True, px=ttl_ms))

    async def release(self, key: str) -> None:
        """DEL the claim."""
        await self.redis.delete(f"{self.prefix}:claim:{key}")

    async def count_delivery(self, task_id: str, ttl_seconds: float) -> int:
        """INCR with an expiry, in one round trip."""
        key = f"{self.prefix}:deliveries:{task_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, max(int(ttl_seconds), 1))
            count, _ = await pipe.execute()
        return int(count)

    async def forget_delivery(self, task_id: str) -> None:
        """DEL the count."""
        await self.redis.delete(f"{self.prefix}:deliveries:{task_id}")

    async def beat(self, worker: str) -> None:
        """ZADD the worker with the current time."""
        await self.redis.zadd(f"{self.prefix}:workers", {worker: time.time()})

    async def leave(self, worker: str) -> None:
        """ZREM the worker."""
        await self.redis.zrem(f"{self.prefix}:workers", worker)

    async def workers_alive(self, within_seconds: float) -> int:
        """ZCOUNT over the window, after dropping long-dead workers."""
        key = f"{self.prefix}:workers"
        now = time.time()
        await self.redis.zremrangebyscore(key, "-inf", now - max(within_seconds * 10, 3600))
        return int(await self.redis.zcount(key, now - within_seconds, "+inf"))


class MemoryJobStore:
    """`JobStore` for one process; claims expire like their Redis counterparts."""

    def __init__(self) -> None:
        self._claims: dict[str, float] = {}
        self._deliveries: dict[str, int] = {}
        self._workers: dict[str, float] = {}

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        """First claim of an unexpired key wins."""
        now = time.monotonic()
        self._claims = {k: until for k, until in self._claims.items() if until > now}
        if key in self._claims:
            return False
        self._claims[key] = now + ttl_seconds
        return True

    async def release(self, key: str) -> None:
        """Forget the claim."""
        self._claims.pop(key, None)

    async def count_delivery(self, task_id: str, ttl_seconds: float) -> int:
        """In-process messages are delivered once (they die with the process)."""
        self._deliveries[task_id] = self._deliveries.get(task_id, 0) + 1
        return self._deliveries[task_id]

    async def forget_delivery(self, task_id: str) -> None:
        """Forget the count."""
        self._deliveries.pop(task_id, None)

    async def beat(self, worker: str) -> None:
        """Record the heartbeat."""
        self._workers[worker] = time.monotonic()

    async def leave(self, worker: str) -> None:
        """Forget the worker."""
        self._workers.pop(worker, None)

    async def workers_alive(self, within_seconds: float) -> int:
        """Workers heard from within the window."""
        now = time.monotonic()
        return sum(1 for seen in self._workers.values() if now - seen <= within_seconds)
