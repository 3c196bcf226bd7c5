"""How uvicorn serves the event stream's sockets: given to every uvicorn it runs under
(`compose/gunicorn.conf.py`'s worker, `main.py`, the tests' processes).

- `websockets-sansio`: the `websockets` protocol without its asyncio layer (no task, queue or
  read buffer of its own per socket), subclassed (`LeanWebSocketsProtocol`) to forget the
  parsed handshake once it is answered.
- No permessage-deflate: a compression context pair costs ~45 KB per socket, and deflating
  each frame once per member is CPU the fan-out spends for frames of a few hundred bytes.
- Client frames (ping, typing, read markers) are small JSON: 64 KiB caps what a client can make
  a worker buffer (uvicorn's default is 16 MiB).
- No protocol-level pings: the hub already sends `heartbeat` frames and closes sockets that
  stay silent (`REALTIME_HEARTBEAT_SECONDS`, `REALTIME_IDLE_TIMEOUT_SECONDS`), so a second
  timer per socket would only duplicate it.
"""

from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

if TYPE_CHECKING:
    from core.platform.realtime.hub import Hub

MAX_CLIENT_FRAME_BYTES = 64 * 1024
PROTOCOL = "core.platform.realtime.server:LeanWebSocketsProtocol"


class LeanWebSocketsProtocol(WebSocketsSansIOProtocol):
    """uvicorn's `websockets-sansio` protocol, minus the handshake it keeps: the parsed request
    and response (every header, ~3 KB) stay referenced for the socket's whole life otherwise,
    though nothing reads them once the response is sent. (uvicorn 0.54's attribute names.)"""

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self.request = self.response = None  # type: ignore[assignment]


UVICORN_WEBSOCKET_OPTIONS: dict[str, Any] = {
    "ws": PROTOCOL,
    "ws_max_size": MAX_CLIENT_FRAME_BYTES,
    "ws_per_message_deflate": False,
    "ws_ping_interval": None,
}
"""Keyword arguments of `uvicorn.Config` (and `uvicorn.run`)."""


def uvicorn_websocket_flags() -> list[str]:
    """The same options as `uvicorn` command-line flags."""
    return [
        "--ws", PROTOCOL,
        "--ws-max-size", str(MAX_CLIENT_FRAME_BYTES),
        "--ws-per-message-deflate", "false",
        "--ws-ping-interval", "0",
    ]  # fmt: skip


class StreamMiddleware:
    """Serves the event stream's WebSocket path straight from the outside of the middleware
    stack: none of the app's middlewares act on WebSockets (they pass them through), but each
    layer — and FastAPI's routing, dependency solving and exit stacks — would otherwise keep a
    suspended coroutine frame alive for as long as the socket is open (~10 KB per idle socket,
    measured). Add it last so it is the outermost; everything else goes on down the stack."""

    def __init__(self, app: ASGIApp, *, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            await hub_of_app(scope["app"]).serve(WebSocket(scope, receive, send))
            return
        await self.app(scope, receive, send)


def hub_of_app(app: Any) -> "Hub":
    """The hub the realtime lifespan started on `app`."""
    hub: Hub = app.state.realtime
    return hub
