"""Brokers: carry published events to every app process. Redis pub/sub across processes, or an
in-process broker on the embedded default — the same interface.

A broker is at-most-once: a process that loses its Redis connection may miss messages. The hub
therefore closes its sockets with `CloseCode.RESTART` when its subscription breaks, and clients
resume from the database (see `Hub`).
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from redis.asyncio import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from core.platform.redis import RedisClient

logger = logging.getLogger("plinth.realtime")


class Broker(Protocol):
    """Publish bytes to every process's subscriber of one channel."""

    async def publish(self, message: bytes) -> None:
        """Send `message` to every current subscriber (in every process)."""
        ...

    def subscribe(self, ready: asyncio.Event) -> AsyncIterator[bytes]:
        """Every message published once `ready` is set, in order; ends when the subscription
        breaks."""
        ...


class MemoryBroker:
    """One process's broker: subscribers are queues in this event loop (embedded default)."""

    def __init__(self, max_pending: int = 10_000) -> None:
        self._subscribers: set[asyncio.Queue[bytes | None]] = set()
        self._max_pending = max_pending

    async def publish(self, message: bytes) -> None:
        """Queue `message` for every subscriber; a subscriber that fell `max_pending` behind
        is ended (as a broken Redis subscription would be)."""
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._subscribers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    async def subscribe(self, ready: asyncio.Event) -> AsyncIterator[bytes]:
        """Messages published after `ready` is set, until the subscriber is ended."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(self._max_pending)
        self._subscribers.add(queue)
        ready.set()
        try:
            while (message := await queue.get()) is not None:
                yield message
        finally:
            self._subscribers.discard(queue)


class RedisBroker:
    """Redis pub/sub on one channel: every process subscribes once and dispatches locally."""

    def __init__(self, redis: RedisClient, channel: str) -> None:
        self._redis = redis
        self._channel = channel

    async def publish(self, message: bytes) -> None:
        """PUBLISH `message` on the channel."""
        await self._redis.publish(self._channel, message)

    async def subscribe(self, ready: asyncio.Event) -> AsyncIterator[bytes]:
        """SUBSCRIBE on a dedicated connection; ends (after logging) if Redis goes away.

        On a Redis Cluster this is classic pub/sub on the node that serves the channel's slot:
        PUBLISH on any node reaches it over the cluster bus."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            if isinstance(self._redis, RedisCluster):
                await self._redis.initialize()  # the channel's node comes from the slot map
            await pubsub.subscribe(self._channel)
            ready.set()
            while True:  # a bounded wait: the client's socket timeout would end a blocking one
                item = await pubsub.get_message(timeout=1.0)
                if item is not None and item.get("type") == "message":
                    yield bytes(item["data"])
        except (RedisError, RedisClusterException, OSError) as exc:
            logger.warning("realtime subscription lost: %r", exc)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
