"""Request limits as pure ASGI middleware: body size (413) and time to response (504).

Both answer with the standard problem-details body (`core.errors.PayloadTooLarge`,
`core.errors.GatewayTimeout`). The database limits — statement timeout and pool timeout — are
engine settings (`core.db.create_engine`) mapped to 504/503 in `core.http`.
"""

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import AppError, GatewayTimeout, PayloadTooLarge
from core.http import error_response
from core.middleware import is_probe

logger = logging.getLogger("plinth.limits")


class _BodyTooLarge(Exception):
    """Raised from `receive` once the streamed body passes the limit."""


async def _answer(error: AppError, scope: Scope, receive: Receive, send: Send) -> None:
    await error_response(error)(scope, receive, send)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodySizeLimitMiddleware:
    """Refuses bodies over `max_bytes` with 413: at once when Content-Length says so, else as
    soon as the streamed (chunked) body passes the limit. `max_bytes=0` turns it off.
    `larger` gives paths a limit of their own (the local file store's upload route)."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    def _error(self, limit: int) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body is larger than {limit} bytes.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        if scope["type"] != "http" or limit <= 0 or is_probe(scope):
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _answer(self._error(limit), scope, receive, send)
            return
        received = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded and not response_started:
                return  # the app's answer to the failed read is replaced by the 413 below
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if exceeded and not response_started:
            await _answer(self._error(limit), scope, receive, send)


class TimeoutMiddleware:
    """Cancels a request that has not started its response within `seconds` and answers 504.

    Only the time to the first response byte counts: streaming responses are not cut off once
    they started. `seconds=0` turns it off. WebSockets and health probes are not affected (the
    readiness checks carry their own timeouts).
    """

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0 or is_probe(scope):
            await self.app(scope, receive, send)
            return
        response_started = False

        try:
            async with asyncio.timeout(self.seconds) as deadline:

                async def send_and_disarm(message: Message) -> None:
                    nonlocal response_started
                    if message["type"] == "http.response.start":
                        response_started = True
                        deadline.reschedule(None)
                    await send(message)

                await self.app(scope, receive, send_and_disarm)
        except TimeoutError:
            if response_started:
                raise
            logger.warning(
                "request timed out after %ss: %s %s", self.seconds, scope["method"], scope["path"]
            )
            await _answer(
                GatewayTimeout(f"The request took longer than {self.seconds:g} seconds."),
                scope,
                receive,
                send,
            )
