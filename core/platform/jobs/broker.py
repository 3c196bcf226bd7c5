"""The taskiq brokers behind `JobQueue`: a Redis stream with acknowledgements, or in-process.

`RedisJobBroker` is taskiq-redis's `RedisStreamBroker` (consumer group, XACK once a job has
finished, XAUTOCLAIM of messages a dead or stopped worker left unacknowledged) with two changes:

- abandoned messages are re-claimed on every poll; taskiq-redis 1.2.4 re-claims only after a
  poll that fetched new messages, so on an idle queue a handed-back job would wait for traffic;
- an acknowledged message is deleted from the stream (XACK + XDEL), so the stream holds exactly
  the jobs waiting or running and its length is the queue depth, without trimming by length
  (which could drop jobs nobody has read yet);
- every command goes through the app's own client (`create_redis`: one server, the master that
  Sentinel names, or a Redis Cluster) instead of a pool built from a URL, and `listen()` rides
  out a lost connection (a failover): it logs, waits `RECONNECT_SECONDS` and reads again —
  unacknowledged messages stay in the stream and are re-claimed, so none is lost;
- `listen()` ends by itself once the worker's stop event is set (`listen_until`). taskiq's
  receiver stops a read by cancelling it, and on Python 3.11 redis-py can swallow that
  cancellation (the read then returns normally in a task that is cancelling: seen here about
  one stop in twenty); the loop kept polling and the worker never stopped.
"""

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from redis.exceptions import RedisClusterException, RedisError, ResponseError
from taskiq import AckableMessage, BrokerMessage
from taskiq_redis import RedisStreamBroker

from core.platform.redis import RedisClient

logger = logging.getLogger("plinth.jobs")

RECONNECT_SECONDS = 0.5
REPLICA_WAIT_MS = 100
CONNECTION_ERRORS = (RedisError, RedisClusterException, OSError)


class RedisJobBroker(RedisStreamBroker):
    """A Redis stream broker that re-claims on every poll and deletes what it acknowledges.

    `client` carries every command; the URL is only what taskiq-redis's constructor wants.
    With `replicas` (under Sentinel), a sent job waits up to `REPLICA_WAIT_MS` for that many
    replicas to hold it too (WAIT), so a failover right after `enqueue` returns keeps it.
    """

    stop: asyncio.Event | None = None
    """Set by `listen_until`: once it is set, `listen()` returns after its current read."""

    def __init__(self, url: str, *, client: RedisClient, replicas: int = 0, **options: Any) -> None:
        super().__init__(url, **options)
        self.client = client
        self.replicas = replicas

    async def startup(self) -> None:
        """Declare the consumer group (and the stream), as taskiq-redis does, on `client`."""
        await super(RedisStreamBroker, self).startup()
        try:
            await self.client.xgroup_create(
                self.queue_name, self.consumer_group_name, id=self.consumer_id, mkstream=True
            )
        except ResponseError as exc:  # BUSYGROUP: declared by another process already
            logger.debug("consumer group: %s", exc)

    async def kick(self, message: BrokerMessage) -> None:
        """XADD the message to the stream (then WAIT for `replicas`, when set)."""
        queue_name = message.labels.get("queue_name") or self.queue_name
        if not self.replicas:
            await self.client.xadd(queue_name, {b"data": message.message})
            return
        async with self.client.pipeline(transaction=False) as pipe:  # one connection: WAIT
            pipe.xadd(queue_name, {b"data": message.message})  # counts this write
            pipe.execute_command("WAIT", self.replicas, REPLICA_WAIT_MS)
            _, copies = await pipe.execute()
        if int(copies) < self.replicas:
            logger.warning("job %s is on the master only: no replica confirmed it", message.task_id)

    def listen_until(self, stop: asyncio.Event) -> None:
        """End `listen()` when `stop` is set, within one read (`xread_block` ms) at most."""
        self.stop = stop

    def _listening(self) -> bool:
        return self.stop is None or not self.stop.is_set()

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            async with self.client.pipeline(transaction=True) as pipe:  # one key: one slot
                pipe.xack(queue_name, self.consumer_group_name, id)
                pipe.xdel(queue_name, id)
                await pipe.execute()

        return ack

    def _message(self, stream: Any, message_id: Any, fields: Any) -> AckableMessage:
        name = stream.decode() if isinstance(stream, bytes) else stream
        return AckableMessage(
            data=fields[b"data"], ack=self._ack_generator(id=message_id, queue_name=name)
        )

    async def _read_new(self, redis: RedisClient) -> list[AckableMessage]:
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

    async def _reclaim(self, redis: RedisClient) -> list[AckableMessage]:
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

    async def _poll(self) -> list[AckableMessage]:
        """New messages, then any left unacknowledged for `idle_timeout` ms; none (after a
        pause) while Redis cannot be reached."""
        try:
            return [*await self._read_new(self.client), *await self._reclaim(self.client)]
        except CONNECTION_ERRORS as exc:
            logger.warning("job stream unreachable, reading again shortly: %r", exc)
            await asyncio.sleep(RECONNECT_SECONDS)
            return []

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Poll until `listen_until`'s event is set."""
        while self._listening():
            for message in await self._poll():
                yield message
