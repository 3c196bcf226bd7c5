"""The hub: every socket of this process, one broker subscription feeding them, and the sweep
that re-checks their grants, sends heartbeats and closes idle sockets.

    hub.publish([user_a, user_b], event_json, key="projects:<id>", seq=42)   # after commit

Published frames reach every process through the broker; each process hands them to the local
sockets of the listed users. Nothing here knows the app's entities: streams
(`core.platform.realtime.streams`) decide who receives what and what a resumed socket missed;
the domains declare what a client may send (`core.platform.realtime.frames`), and the app
says whether a grant still holds (`revalidate`).
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket

from configs.realtime import RealtimeSettings
from core.platform.realtime.broker import Broker, MemoryBroker, RedisBroker
from core.platform.realtime.connection import Connection, Delivery, FrameHandler
from core.platform.realtime.frames import dispatch_frame
from core.platform.realtime.protocol import (
    HUB_KEY,
    SUBPROTOCOL,
    CloseCode,
    Grant,
    frame,
    ticket_from_subprotocols,
)
from core.platform.realtime.store import (
    MemorySlotStore,
    MemoryTicketStore,
    RedisSlotStore,
    RedisTicketStore,
    SlotStore,
    TicketStore,
)
from core.platform.realtime.streams import stream_replayer

logger = logging.getLogger("plinth.realtime")

Revalidator = Callable[[Sequence[Grant]], Awaitable[Sequence[bool]]]
"""For each grant, whether it still holds (session open, account unchanged): one batch per
sweep for every socket of the process."""
Replayer = Callable[[Connection], Awaitable[None]]
"""Sends a new socket what it missed (`send_now`) and records `floors`, before `ready`."""
SUBSCRIBE_TIMEOUT = 5.0
RESUBSCRIBE_SECONDS = 1.0
DRAIN_SECONDS = 5.0


CONNECTIONS = Gauge(
    "plinth_realtime_connections",
    "Open event-stream sockets (summed over live workers).",
    multiprocess_mode="livesum",
)
DELIVERY = Histogram(
    "plinth_realtime_delivery_seconds",
    "From an event's publish (after its commit) to its frame written to a member's socket.",
    buckets=(0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 1.0),
)


def _time_delivery(delivery: Delivery) -> None:
    if delivery.published_at is not None:
        DELIVERY.observe(max(time.time() - delivery.published_at, 0.0))


async def _no_replay(_: Connection) -> None:
    return None


class Hub:
    """The process's sockets and their fan-out.

    Args:
        broker: the fan-out between processes (Redis pub/sub, or in-process on the
            embedded default; `stores_for` picks it and the two stores).
        tickets: the single-use ticket store.
        slots: the per-user connection slots, counted across processes.
        settings: buffer size, connection limit, heartbeat, idle timeout, sweep interval.
        on_frame: the handler of client frames other than `ping`; default: the declared
            ones (`client_frame`, e.g. the messenger's typing and read markers).
        revalidate: the app's batch check of grants; sockets whose grant fails are closed
            with `UNAUTHORIZED` within one sweep (`REALTIME_REVALIDATE_SECONDS`).
        replay: the catch-up of a new socket (resume from the last seq of each stream).
    """

    def __init__(
        self,
        broker: Broker,
        tickets: TicketStore,
        slots: SlotStore,
        settings: RealtimeSettings,
        *,
        on_frame: FrameHandler = dispatch_frame,
        revalidate: Revalidator | None = None,
        replay: Replayer | None = None,
    ) -> None:
        self.broker, self.tickets, self.slots, self.settings = broker, tickets, slots, settings
        self._on_frame, self._revalidate = on_frame, revalidate
        self._replay = replay or _no_replay
        self._by_user: dict[str, set[Connection]] = {}
        self._subscribed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._drained = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the broker and start the sweep."""
        self._tasks = [
            asyncio.create_task(self._listen(), name="realtime-listen"),
            asyncio.create_task(self._sweep(), name="realtime-sweep"),
        ]

    async def stop(self) -> None:
        """Close every socket with `RESTART` (clients reconnect elsewhere and resume), wait
        briefly for them to go, then stop the background tasks."""
        self._stopping = True
        for connection in self.connections():
            connection.close(CloseCode.RESTART, "server restarting: reconnect and resume")
        if self._by_user:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), DRAIN_SECONDS)
        # Cancelling redis-py in the middle of SUBSCRIBE can leave the task hanging: let the
        # subscription finish first (milliseconds), and never wait for the tasks unbounded.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), SUBSCRIBE_TIMEOUT)
        for task in self._tasks:
            task.cancel()
        await asyncio.wait(self._tasks, timeout=DRAIN_SECONDS)

    def connections(self) -> list[Connection]:
        """Every open socket of this process."""
        return [c for group in self._by_user.values() for c in group]

    # -- publishing ---------------------------------------------------------------------------

    async def publish(
        self,
        recipients: Iterable[uuid.UUID],
        text: str,
        *,
        key: str | None = None,
        seq: int | None = None,
    ) -> None:
        """Deliver the frame `text` to every socket of `recipients`, in every process. Call it
        after the commit (`after_commit`); a failure is logged, and clients see the gap in
        `seq` and fetch it (docs/reference/websocket.md)."""
        to = [str(r) for r in recipients]
        header = json.dumps({"to": to, "key": key, "seq": seq, "at": time.time()})
        try:
            await self.broker.publish(header.encode() + b"\n" + text.encode())
        except Exception:
            logger.exception("realtime publish failed")

    def _dispatch(self, message: bytes) -> None:
        """One event to the local sockets of its recipients: parsed and decoded once, the same
        `Delivery` (the same str) buffered on every socket."""
        head, _, body = message.partition(b"\n")
        header = json.loads(head)
        by_user = self._by_user
        local = [by_user[user] for user in header["to"] if user in by_user]
        if not local:
            return
        delivery = Delivery(body.decode(), header.get("key"), header.get("seq"), header.get("at"))
        for group in local:
            for connection in group:
                connection.offer(delivery)

    async def _listen(self) -> None:
        while not self._stopping:
            async for message in self.broker.subscribe(self._subscribed):
                self._dispatch(message)
            self._subscribed.clear()
            for connection in self.connections():  # messages may have been missed
                connection.close(CloseCode.RESTART, "event stream interrupted: resume")
            await asyncio.sleep(RESUBSCRIBE_SECONDS)

    # -- sockets ------------------------------------------------------------------------------

    async def issue_ticket(self, grant: Grant) -> str:
        """A single-use ticket for `grant`, valid for `REALTIME_TICKET_TTL_SECONDS`."""
        return await self.tickets.issue(grant, self.settings.ticket_ttl_seconds)

    async def serve(self, websocket: WebSocket) -> None:
        """The whole life of one socket: redeem its ticket, take a slot, replay, `ready`,
        then stream until someone closes it. A broken ticket or slot store (Redis down) is a
        `RESTART` close, not an error page."""
        offered = list(websocket.scope.get("subprotocols", []))
        await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
        # Nothing reads the handshake's headers again; a socket keeps them for hours otherwise.
        websocket.scope["headers"] = []
        try:
            connection = await self._open(websocket, ticket_from_subprotocols(offered))
        except Exception:
            logger.warning("realtime socket refused: ticket or slot store failed", exc_info=True)
            await websocket.close(CloseCode.RESTART, "event stream unavailable")
            return
        if connection is None:
            return
        try:
            if await self._start(connection):
                await connection.run(self._on_frame)
        finally:
            self._unregister(connection)
            with contextlib.suppress(Exception):
                await self.slots.release(connection.grant.user_id, connection.id)

    async def _open(self, websocket: WebSocket, ticket: str | None) -> Connection | None:
        """The socket's connection with its slot taken, or None after closing it (no valid
        ticket, or too many sockets)."""
        grant = await self.tickets.redeem(ticket) if ticket else None
        if grant is None:
            await websocket.close(CloseCode.UNAUTHORIZED, "ticket missing, invalid or used")
            return None
        settings = self.settings
        connection = Connection(
            websocket,
            grant,
            buffer=settings.buffer_events,
            sent=_time_delivery,
            frame_rate=settings.client_frames_per_second,
            frame_burst=settings.client_frame_burst,
        )
        if not await self.slots.acquire(
            grant.user_id,
            connection.id,
            settings.max_connections_per_user,
            settings.idle_timeout_seconds + settings.heartbeat_seconds,
        ):
            await websocket.close(CloseCode.TOO_MANY_CONNECTIONS, "too many connections")
            return None
        return connection

    async def _start(self, connection: Connection) -> bool:
        """Register the socket for fan-out, replay what it missed and send `ready`; False
        (after closing it) when the stream is unavailable."""
        if self._stopping or not await self._wait_subscribed():
            await connection.websocket.close(CloseCode.RESTART, "event stream unavailable")
            return False
        self._by_user.setdefault(connection.user_key, set()).add(connection)
        CONNECTIONS.inc()
        self._drained.clear()
        try:
            await self._replay(connection)
        except Exception:
            logger.warning("realtime replay failed; socket closed", exc_info=True)
            await connection.websocket.close(CloseCode.INTERNAL_ERROR, "replay failed")
            return False
        await connection.send_now(
            frame(
                "ready",
                connection_id=connection.id,
                heartbeat_seconds=self.settings.heartbeat_seconds,
            )
        )
        return True

    async def _wait_subscribed(self) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), SUBSCRIBE_TIMEOUT)
        return self._subscribed.is_set()

    def _unregister(self, connection: Connection) -> None:
        group = self._by_user.get(connection.user_key)
        if group is not None and connection in group:
            group.discard(connection)
            CONNECTIONS.dec()
            if not group:
                del self._by_user[connection.user_key]
        if not self._by_user:
            self._drained.set()

    # -- the sweep ----------------------------------------------------------------------------

    async def _sweep(self) -> None:
        next_beat = time.monotonic() + self.settings.heartbeat_seconds
        while True:
            await asyncio.sleep(self.settings.revalidate_seconds)
            with contextlib.suppress(Exception):
                await self._check_grants()
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self.settings.heartbeat_seconds
                with contextlib.suppress(Exception):
                    await self._beat()

    async def _check_grants(self) -> None:
        connections = [c for c in self.connections() if not c.closing]
        if self._revalidate is None or not connections:
            return
        valid = await self._revalidate([c.grant for c in connections])
        for connection, ok in zip(connections, valid, strict=True):
            if not ok:
                connection.close(CloseCode.UNAUTHORIZED, "the session ended: sign in again")

    async def _beat(self) -> None:
        """Heartbeats out, idle sockets closed, live slots extended."""
        settings, now = self.settings, time.monotonic()
        live = []
        for connection in self.connections():
            if now - connection.last_seen > settings.idle_timeout_seconds:
                connection.close(CloseCode.IDLE, "no frame from the client: send pings")
            else:
                connection.offer(Delivery(frame("heartbeat")))
                live.append((connection.grant.user_id, connection.id))
        ttl = settings.idle_timeout_seconds + settings.heartbeat_seconds
        await self.slots.refresh(live, ttl)


def stores_for(app: FastAPI, settings: RealtimeSettings) -> tuple[Broker, TicketStore, SlotStore]:
    """Redis broker and stores when the app has Redis, in-process ones otherwise."""
    redis = app.state.redis
    if redis is None:
        return MemoryBroker(), MemoryTicketStore(), MemorySlotStore()
    prefix = settings.channel
    broker = RedisBroker(redis, prefix)
    return broker, RedisTicketStore(redis, prefix), RedisSlotStore(redis, prefix)


def default_replay(app: FastAPI) -> Replayer:
    """The streams' replay (`stream_replayer`) on the app's database."""
    return stream_replayer(app.state.database, app.state.settings.realtime.replay_limit)


def _declared_frames(_: FastAPI) -> FrameHandler:
    return dispatch_frame


def realtime_lifespan(
    *,
    revalidate: Callable[[FastAPI], Revalidator] | None = None,
    on_frame: Callable[[FastAPI], FrameHandler] = _declared_frames,
    replay: Callable[[FastAPI], Replayer] = default_replay,
) -> Callable[[FastAPI], Any]:
    """A lifespan hook that starts the hub (`app.state.realtime`) and shares it with every
    session (`publisher_of`, what `emit` publishes through). Each argument builds an app hook
    from the started app: `revalidate` (without it, a grant holds until its socket closes),
    `on_frame` (default: the declared client frames, `client_frame`) and `replay` (default:
    the streams' resume, `default_replay`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings: RealtimeSettings = app.state.settings.realtime
        hub = Hub(
            *stores_for(app, settings),
            settings,
            on_frame=on_frame(app),
            revalidate=revalidate(app) if revalidate else None,
            replay=replay(app),
        )
        await hub.start()
        app.state.realtime = hub
        app.state.database.share(HUB_KEY, hub)
        try:
            yield
        finally:
            await hub.stop()

    return lifespan


def publisher_of(session: AsyncSession) -> Hub | None:
    """The hub of the app this session belongs to; None outside a running app (CLI, jobs)."""
    hub = session.info.get(HUB_KEY)
    return hub if isinstance(hub, Hub) else None


def hub_of(websocket: WebSocket) -> Hub:
    """The hub of the app serving `websocket`."""
    hub: Hub = websocket.app.state.realtime
    return hub
