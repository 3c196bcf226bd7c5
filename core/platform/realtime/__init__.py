"""Real-time events over WebSocket: tickets, a bounded socket per client, fan-out across
processes through a broker (Redis pub/sub, or in process), revocation within a sweep, and
streams — ordered, kept, resumable events of any entity for exactly its audience.

An entity gets events by declaring a `StreamKind` (its audience) and calling `emit` from its
controller (see `core.platform.realtime.streams`); a domain declares what clients may send
with `client_frame` (`core.platform.realtime.frames`); the app says whether grants still hold
(`revalidate`) in `realtime_lifespan`.
"""

from core.platform.realtime.broker import Broker, MemoryBroker, RedisBroker
from core.platform.realtime.connection import Connection, Delivery, FrameHandler
from core.platform.realtime.frames import (
    ClientFrameHandler,
    client_frame,
    client_frame_types,
    dispatch_frame,
)
from core.platform.realtime.hub import (
    Hub,
    Replayer,
    Revalidator,
    hub_of,
    publisher_of,
    realtime_lifespan,
)
from core.platform.realtime.models import RealtimeEvent, RealtimeStream
from core.platform.realtime.protocol import SUBPROTOCOL, CloseCode, Grant, frame
from core.platform.realtime.streams import (
    Stream,
    StreamKind,
    StreamPage,
    StreamReader,
    emit,
    emit_ephemeral,
    next_seq,
    read_events,
    resume_positions,
)

__all__ = [
    "SUBPROTOCOL",
    "Broker",
    "ClientFrameHandler",
    "CloseCode",
    "Connection",
    "Delivery",
    "FrameHandler",
    "Grant",
    "Hub",
    "MemoryBroker",
    "RealtimeEvent",
    "RealtimeStream",
    "RedisBroker",
    "Replayer",
    "Revalidator",
    "Stream",
    "StreamKind",
    "StreamPage",
    "StreamReader",
    "client_frame",
    "client_frame_types",
    "dispatch_frame",
    "emit",
    "emit_ephemeral",
    "frame",
    "hub_of",
    "next_seq",
    "publisher_of",
    "read_events",
    "realtime_lifespan",
    "resume_positions",
]
