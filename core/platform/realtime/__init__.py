"""Real-time events over WebSocket: tickets, a bounded socket per client, fan-out across
processes through a broker (Redis pub/sub, or in process), revocation within a sweep.

The app supplies who receives an event (recipients passed to `Hub.publish`), what clients may
send (`on_frame`), what a resumed socket missed (`replay`) and whether grants still hold
(`revalidate`); see `realtime_lifespan`.
"""

from core.platform.realtime.broker import Broker, MemoryBroker, RedisBroker
from core.platform.realtime.connection import Connection, Delivery, FrameHandler
from core.platform.realtime.hub import (
    Hub,
    Replayer,
    Revalidator,
    hub_of,
    publisher_of,
    realtime_lifespan,
)
from core.platform.realtime.protocol import SUBPROTOCOL, CloseCode, Grant, frame

__all__ = [
    "SUBPROTOCOL",
    "Broker",
    "CloseCode",
    "Connection",
    "Delivery",
    "FrameHandler",
    "Grant",
    "Hub",
    "MemoryBroker",
    "RedisBroker",
    "Replayer",
    "Revalidator",
    "frame",
    "hub_of",
    "publisher_of",
    "realtime_lifespan",
]
