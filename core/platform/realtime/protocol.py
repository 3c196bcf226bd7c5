"""What travels on the socket: close codes, the grant a ticket stands for, and frame helpers."""

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

SUBPROTOCOL = "plinth.v1"
"""The WebSocket subprotocol the server answers with; the ticket rides beside it as
`ticket.<ticket>` in `Sec-WebSocket-Protocol`, never in the URL."""
TICKET_PREFIX = "ticket."
HUB_KEY = "realtime_hub"
"""Key of the hub in `AsyncSession.info` (see `publisher_of`)."""


class CloseCode(IntEnum):
    """Why the server closed the socket (docs/reference/websocket.md is generated from these
    docstrings)."""

    NORMAL = 1000
    UNSUPPORTED_DATA = 1003
    """A binary frame: the protocol is JSON text frames only."""
    POLICY_VIOLATION = 1008
    """The client sent frames faster than REALTIME_CLIENT_FRAMES_PER_SECOND allows (after a
    burst of REALTIME_CLIENT_FRAME_BURST): slow down, then reconnect and resume."""
    INTERNAL_ERROR = 1011
    """The server could not replay what the socket missed (e.g. a resume position no stream
    can hold): get a new ticket with positions you were sent."""
    RESTART = 1012
    """The server is shutting down or lost its broker: reconnect (new ticket) and resume."""
    UNAUTHORIZED = 4401
    """No valid ticket, or the session behind it ended (logout, password change, demotion,
    deactivation, deletion): get a fresh token, then a ticket."""
    IDLE = 4408
    """Nothing received from the client for the idle timeout (send `ping` frames)."""
    SLOW_CONSUMER = 4413
    """The client read too slowly and its bounded buffer overflowed: reconnect and resume."""
    TOO_MANY_CONNECTIONS = 4429
    """The user already holds the maximum number of sockets."""


@dataclass(frozen=True, slots=True)
class Grant:
    """Who a ticket was issued to: the user, their login session, and the app's own claims
    (e.g. the token version to re-check, the resume positions)."""

    user_id: uuid.UUID
    session_id: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)

    def dumps(self) -> bytes:
        """The grant as JSON bytes (what the ticket store keeps)."""
        body = {"user_id": str(self.user_id), "session_id": self.session_id, "claims": self.claims}
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes) -> "Grant":
        """The grant `dumps` wrote."""
        body = json.loads(raw)
        return cls(uuid.UUID(body["user_id"]), body["session_id"], body["claims"])


def frame(kind: str, **fields: Any) -> str:
    """A control frame (`ready`, `heartbeat`, `pong`, `error`, `reset`) as JSON text."""
    return json.dumps({"type": kind, **fields}, separators=(",", ":"), default=str)


def ticket_from_subprotocols(offered: list[str]) -> str | None:
    """The ticket offered as `ticket.<ticket>` next to `plinth.v1`, if both are there."""
    if SUBPROTOCOL not in offered:
        return None
    tickets = [p[len(TICKET_PREFIX) :] for p in offered if p.startswith(TICKET_PREFIX)]
    return tickets[0] if len(tickets) == 1 and tickets[0] else None
