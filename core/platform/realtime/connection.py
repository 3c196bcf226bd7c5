"""One client socket: a bounded outbound buffer, a sender and a receiver, one way to close."""

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from core.errors import AppError, InvalidInput
from core.http import error_body
from core.platform.realtime.protocol import CloseCode, Grant, frame


@dataclass(frozen=True, slots=True)
class Delivery:
    """An outgoing text frame; `key`/`seq` (a thread and its event id) let a resumed socket
    skip live copies of events its replay already sent."""

    text: str
    key: str | None = None
    seq: int | None = None


FrameHandler = Callable[["Connection", dict[str, Any]], Awaitable[None]]
"""The app's handler of client frames other than `ping`; raise an `AppError` to answer with an
`error` frame."""


class Connection:
    """A socket of one user. The hub `offer`s frames without ever waiting: when the bounded
    buffer is full the client is too slow, and the socket is closed (`SLOW_CONSUMER`)."""

    def __init__(self, websocket: WebSocket, grant: Grant, *, buffer: int) -> None:
        self.id = uuid.uuid4().hex
        self.websocket = websocket
        self.grant = grant
        self.user_key = str(grant.user_id)
        self.floors: dict[str, int] = {}
        """Per key (thread), the highest seq already sent by the replay."""
        self.last_seen = time.monotonic()
        self.state: dict[str, Any] = {}
        """The app's own per-socket state (e.g. when it last forwarded a typing frame)."""
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(buffer)
        self._closing: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()

    def offer(self, delivery: Delivery) -> None:
        """Queue a frame; overflow closes the socket instead of growing the buffer."""
        if self._closing.done():
            return
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self.close(CloseCode.SLOW_CONSUMER, "the client reads too slowly; resume")

    def close(self, code: int, reason: str) -> None:
        """Ask for the socket to close with `code` (the first request wins)."""
        if not self._closing.done():
            self._closing.set_result((code, reason))

    @property
    def closing(self) -> bool:
        """Whether a close was asked for."""
        return self._closing.done()

    async def send_now(self, text: str) -> None:
        """Send directly (before the sender runs: the replay), bypassing the buffer."""
        await self.websocket.send_text(text)

    async def run(self, on_frame: FrameHandler) -> None:
        """Send and receive until either side ends the socket; then close it with the code
        that was asked for (nothing to close when the client went away)."""
        tasks: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(self._send_loop()),
            asyncio.ensure_future(self._receive_loop(on_frame)),
        ]
        try:
            await asyncio.wait([*tasks, self._closing], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_socket()

    async def _close_socket(self) -> None:
        if not self._closing.done() or self.websocket.client_state is WebSocketState.DISCONNECTED:
            return
        code, reason = self._closing.result()
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.websocket.close(code, reason)

    async def _send_loop(self) -> None:
        while True:
            delivery = await self._queue.get()
            key, seq = delivery.key, delivery.seq
            if key is not None and seq is not None and seq <= self.floors.get(key, 0):
                continue  # already sent by the replay
            await self.websocket.send_text(delivery.text)

    async def _receive_loop(self, on_frame: FrameHandler) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                self.last_seen = time.monotonic()
                text = message.get("text")
                if text is None:
                    self.close(CloseCode.UNSUPPORTED_DATA, "JSON text frames only")
                    return
                await self._handle(text, on_frame)

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
