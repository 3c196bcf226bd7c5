"""One client socket: a bounded outbound buffer and one way to close.

An idle socket costs no task of its own: the socket's ASGI task (`run`) receives, and a short
writer task exists only while frames are waiting to go out (it drains the buffer and ends).
"""

import asyncio
import contextlib
import json
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from core.errors import AppError, InvalidInput
from core.http import error_body
from core.platform.realtime.protocol import CloseCode, Grant, frame


@dataclass(frozen=True, slots=True)
class Delivery:
    """An outgoing text frame, one object shared by every socket it goes to; `key`/`seq` (a
    stream's key and the event's seq in it) let a resumed socket skip live copies of events
    its replay already sent, and `published_at` (wall clock) times the fan-out."""

    text: str
    key: str | None = None
    seq: int | None = None
    published_at: float | None = None


FrameHandler = Callable[["Connection", dict[str, Any]], Awaitable[None]]
"""The app's handler of client frames other than `ping`; raise an `AppError` to answer with an
`error` frame."""
Sent = Callable[[Delivery], None]
"""Called after each frame is written to the socket (the hub's fan-out timing)."""


def _ignore(_: Delivery) -> None:
    return None


class Connection:
    """A socket of one user. The hub `offer`s frames without ever waiting: when the bounded
    buffer is full the client is too slow, and the socket is closed (`SLOW_CONSUMER`). A client
    sending more than `frame_rate` frames a second (after a burst of `frame_burst`) is closed
    with `POLICY_VIOLATION`: each of its frames costs the server work."""

    __slots__ = (
        "_allowance",
        "_buffer",
        "_burst",
        "_checked_at",
        "_close",
        "_closer",
        "_limit",
        "_live",
        "_rate",
        "_sent",
        "_writer",
        "floors",
        "grant",
        "id",
        "last_seen",
        "state",
        "user_key",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        grant: Grant,
        *,
        buffer: int,
        sent: Sent = _ignore,
        frame_rate: float = 10.0,
        frame_burst: int = 30,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.websocket = websocket
        self.grant = grant
        self.user_key = str(grant.user_id)
        self.floors: dict[str, int] = {}
        """Per stream key, the highest seq already sent by the replay."""
        self.last_seen = time.monotonic()
        self.state: dict[str, Any] = {}
        """The app's own per-socket state (e.g. when it last forwarded a typing frame)."""
        self._buffer: deque[Delivery] | None = None
        """Created on the first frame and dropped once written: idle sockets hold none."""
        self._limit = buffer
        self._sent = sent
        self._live = False
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._close: tuple[int, str] | None = None
        self._rate = frame_rate
        self._burst = self._allowance = float(frame_burst)
        self._checked_at = self.last_seen

    def offer(self, delivery: Delivery) -> None:
        """Buffer a frame; overflow closes the socket instead of growing the buffer."""
        if self._close is not None:
            return
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = deque()
        elif len(buffer) >= self._limit:
            self.close(CloseCode.SLOW_CONSUMER, "the client reads too slowly; resume")
            return
        buffer.append(delivery)
        if self._live and self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    def close(self, code: int, reason: str) -> None:
        """Close the socket with `code` (the first request wins); buffered frames are dropped
        (the client resumes from the last `seq` it saw)."""
        if self._close is not None:
            return
        self._close = (code, reason)
        self._buffer = None
        if self._live:  # before `run` (during the replay), `run` closes it at once
            self._closer = asyncio.get_running_loop().create_task(self._close_socket())

    @property
    def app(self) -> Any:
        """The app serving this socket (`app.state.database`, `app.state.settings`)."""
        return self.websocket.app

    @property
    def closing(self) -> bool:
        """Whether a close was asked for."""
        return self._close is not None

    @property
    def buffered(self) -> int:
        """Frames waiting to be written."""
        return len(self._buffer) if self._buffer is not None else 0

    async def send_now(self, text: str) -> None:
        """Send directly (before `run`: the replay), bypassing the buffer."""
        await self.websocket.send_text(text)

    async def run(self, on_frame: FrameHandler) -> None:
        """Stream: buffered and later frames go out, client frames are handled, until either
        side ends the socket; then wait for the close that was asked for to be sent. (The
        receive loop is inline: each suspended frame is kept for the socket's whole life.)"""
        self._live = True
        if self._close is not None:
            await self._close_socket()
            return
        if self._buffer:
            self._writer = asyncio.get_running_loop().create_task(self._write())
        websocket = self.websocket
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if self._close is not None:
                    continue  # closing: read on until the client's close arrives
                self.last_seen = time.monotonic()
                text = message.get("text")
                if text is None:
                    self.close(CloseCode.UNSUPPORTED_DATA, "JSON text frames only")
                    continue
                if not self._take_frame():
                    self.close(CloseCode.POLICY_VIOLATION, "too many frames: slow down")
                    continue
                await self._handle(text, on_frame)
        except WebSocketDisconnect:
            pass
        finally:
            if self._close is None:  # the client went away: nothing left to send
                self._close = (CloseCode.NORMAL, "")
                self._buffer = None
                if self._writer is not None:
                    self._writer.cancel()
            elif self._closer is not None:
                with contextlib.suppress(Exception):
                    await self._closer

    def _take_frame(self) -> bool:
        """Charge one client frame to the socket's token bucket; False when it is empty."""
        now = self.last_seen
        refill = (now - self._checked_at) * self._rate
        self._allowance = min(self._burst, self._allowance + refill)
        self._checked_at = now
        if self._allowance < 1:
            return False
        self._allowance -= 1
        return True

    async def _write(self) -> None:
        """Drain the buffer (the only writer while streaming), then end."""
        try:
            while (buffer := self._buffer) is not None and buffer:
                delivery = buffer.popleft()
                key, seq = delivery.key, delivery.seq
                if key is not None and seq is not None and seq <= self.floors.get(key, 0):
                    continue  # already sent by the replay
                await self.websocket.send_text(delivery.text)
                self._sent(delivery)
            self._buffer = None
        except Exception:  # the client is gone; the receive loop sees the disconnect
            self._buffer = None
        finally:
            self._writer = None

    async def _close_socket(self) -> None:
        writer = self._writer
        if writer is not None:  # it may wait on a client that reads nothing: stop it
            writer.cancel()
            with contextlib.suppress(BaseException):
                await writer
        if self.websocket.client_state is WebSocketState.DISCONNECTED or self._close is None:
            return
        code, reason = self._close
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.websocket.close(code, reason)

    async def _handle(self, text: str, on_frame: FrameHandler) -> None:
        try:
            data = _parse(text)
            if data["type"] == "ping":
                self.offer(Delivery(frame("pong")))
            else:
                await on_frame(self, data)
        except AppError as exc:
            self.offer(Delivery(frame("error", problem=error_body(exc))))


def _parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise InvalidInput("A frame is a JSON object with a string `type`.")
    return data
