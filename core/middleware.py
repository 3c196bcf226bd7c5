"""Pure ASGI middleware of the core: request ids, and `observe` for middleware that records each
request once it is answered (other platform middleware lives beside it)."""

import time
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.context import accept_request_id, request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
PROBE_PATH_PREFIXES = ("/health/", "/metrics")
"""Paths polled by orchestrators and scrapers: not measured per request, nor given timeouts."""


def is_probe(scope: Scope) -> bool:
    """Whether the request is a health probe or a metrics scrape."""
    return str(scope["path"]).startswith(PROBE_PATH_PREFIXES)


Finished = Callable[[Scope, int, float], None]
"""Told of an answered request: its scope, the status sent and the seconds it took."""


async def observe(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, finished: Finished
) -> None:
    """Run `app` and then call `finished(scope, status, seconds)` — also when it raised, with
    status 500 unless a response had started: the access log, request log and metrics."""
    started = time.perf_counter()
    status = 500

    async def send_and_watch(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    try:
        await app(scope, receive, send_and_watch)
    finally:
        finished(scope, status, time.perf_counter() - started)


class RequestIdMiddleware:
    """Accepts a valid X-Request-ID or makes one, exposes it to logs and errors, returns it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = accept_request_id(incoming)
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class SecurityHeadersMiddleware:
    """`X-Content-Type-Options: nosniff` on every response (a JSON body is never sniffed into
    HTML), and `Strict-Transport-Security` when `hsts_seconds` is positive (APP_HSTS_SECONDS;
    production sets a year). Headers a route set itself are kept."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 0) -> None:
        self.app = app
        self.headers = {"X-Content-Type-Options": "nosniff"}
        if hsts_seconds > 0:
            self.headers["Strict-Transport-Security"] = f"max-age={hsts_seconds}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
