"""The taskiq brokers behind `JobQueue`: a Redis stream with acknowledgements, or in-process.

`RedisJobBroker` is taskiq-redis's `RedisStreamBroker` (consumer group, XACK once a job has
finished, XAUTOCLAIM of messages a dead or stopped worker left unacknowledged) with two changes:

- abandoned messages are re-claimed on every poll; taskiq-redis 1.2.4 re-claims only after a
  poll that fetched new messages, so on an idle queue a handed-back job would wait for traffic;
- an acknowledged message is deleted from the stream (XACK + XDEL), so the stream holds exactly
  the jobs waiting or running and its length is the queue depth, without trimming by length
  (which could drop jobs nobody has read yet);
- `listen()` ends by itself once the worker's stop event is set (`listen_until`). taskiq's
  receiver stops a read by cancelling it, and on Python 3.11 redis-py can swallow that
  cancellation (the read then returns normally in a task that is cancelling: seen here about
  one stop in twenty); the loop kept polling and the worker never stopped.
"""

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker


class RedisJobBroker(RedisStreamBroker):
    """A Redis stream broker that re-claims on every poll and deletes what it acknowledges."""

    stop: asyncio.Event | None = None
    """Set by `listen_until`: once it is set, `listen()` returns after its current read."""

    def listen_until(self, stop: asyncio.Event) -> None:
        """End `listen()` when `stop` is set, within one read (`xread_block` ms) at most."""
        self.stop = stop

    def _listening(self) -> bool:
        return self.stop is None or not self.stop.is_set()

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            async with (
                Redis(connection_pool=self.connection_pool) as redis,
                redis.pipeline(transaction=True) as pipe,
            ):
                pipe.xack(queue_name, self.consumer_group_name, id)
                pipe.xdel(queue_name, id)
                await pipe.execute()

        return ack

    def _message(self, stream: Any, message_id: Any, fields: Any) -> AckableMessage:
        name = stream.decode() if isinstance(stream, bytes) else stream
        return AckableMessage(
            data=fields[b"data"], ack=self._ack_generator(id=message_id, queue_name=name)
        )

    async def _read_new(self, redis: Redis) -> list[AckableMessage]:
        fetched: Any = await redis.xreadgroup(
            self.consumer_group_name,
            self.consumer_name,
            {self.queue_name: ">"},
            block=self.block,
            noack=False,
            count=self.count,
        )
        return [
            self._message(stream, message_id, fields)
            for stream, entries in fetched or []
            for message_id, fields in entries
            if fields
        ]

    async def _reclaim(self, redis: Redis) -> list[AckableMessage]:
        reply = await redis.xautoclaim(
            name=self.queue_name,
            groupname=self.consumer_group_name,
            consumername=self.consumer_name,
            min_idle_time=self.idle_timeout,
            count=self.unacknowledged_batch_size,
        )
        return [
            self._message(self.queue_name, message_id, fields)
            for message_id, fields in reply[1]
            if fields
        ]

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """New messages first, then any left unacknowledged for `idle_timeout` ms."""
        async with Redis(connection_pool=self.connection_pool) as redis:
            while self._listening():
                for message in await self._read_new(redis):
                    yield message
                for message in await self._reclaim(redis):
                    yield message
