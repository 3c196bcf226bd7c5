"""API request logs: a pure ASGI middleware, a bounded buffer and a background writer.

The middleware appends one small row per request to an in-memory buffer and never waits for the
database. A background task (started by `request_log_lifespan`) inserts the buffer in batches —
when `batch_size` rows are waiting or every `flush_interval_seconds` — and flushes what is left
on shut-down. Rows older than `retention_days` are deleted by a scheduled job
(`core.platform.jobs.maintenance`), once per tick for the whole deployment. When the buffer is
full, or a batch
cannot be written (database down, pool exhausted), rows are dropped and counted in
`plinth_request_log_dropped_total`: the app neither crashes nor grows.

Rows hold the time, method, route template, status, duration, user id, API key id, client ip
and request id — never bodies, query strings, headers or tokens.
"""

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from prometheus_client import Counter
from sqlalchemy import insert
from starlette.types import ASGIApp, Receive, Scope, Send

from configs.requestlog import RequestLogSettings
from core.db import Database, new_id, utcnow
from core.middleware import observe
from core.platform.clientip import resolve_client_ip, trusted_proxies
from core.platform.requestlog.models import MAX_IP_LENGTH, MAX_ROUTE_LENGTH, RequestLog

logger = logging.getLogger("plinth.requestlog")

DROPPED = Counter(
    "plinth_request_log_dropped",
    "Request-log rows dropped (buffer full or the database could not take a batch).",
    ["reason"],
)
WRITTEN = Counter("plinth_request_log_written", "Request-log rows written to the database.")


def route_template(scope: Scope) -> str | None:
    """The matched route's full path template (`/api/v1/users/{user_id}`), None before routing
    or when no route matched.

    FastAPI ≥ 0.160 keeps included routers nested, so `scope["route"].path` is relative to its
    router; the full template is on FastAPI's per-request route context (read defensively, it
    is not public API). Starlette routes and older FastAPI give the full path on the route.
    """
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    path = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else None


def logged_route(scope: Scope) -> str:
    """The route template, else the raw path with NUL replaced (PostgreSQL refuses NUL, and
    one such row would sink its whole batch), cut to the column's length."""
    route = route_template(scope) or scope["path"].replace("\x00", "\ufffd")
    return str(route[:MAX_ROUTE_LENGTH])


def principal_id(scope: Scope, attribute: str = "id") -> uuid.UUID | None:
    """The id (or `api_key_id`) of the principal a gate resolved for this request, if any."""
    state = scope.get("state") or {}
    principal = state.get("principal") if isinstance(state, Mapping) else None
    value = getattr(principal, attribute, None)
    return value if isinstance(value, uuid.UUID) else None


ClientIp = Callable[[Scope], str | None]


def peer_ip(scope: Scope) -> str | None:
    """The TCP peer's address, ignoring X-Forwarded-For."""
    client = scope.get("client")
    return client[0] if client else None


def trusted_client_ip(scope: Scope) -> str | None:
    """The client address with X-Forwarded-For honoured only from TRUSTED_PROXIES (the same
    answer the rate limiter keys on)."""
    settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
    if settings is None:
        return peer_ip(scope)
    proxies = trusted_proxies(tuple(settings.ratelimit.trusted_proxies))
    return resolve_client_ip(peer_ip(scope), scope["headers"], proxies)


class RequestLogBuffer:
    """A bounded queue of rows waiting to be written; `add` never blocks and never grows past
    `capacity` (extra rows are dropped and counted)."""

    def __init__(self, capacity: int, batch_size: int) -> None:
        self.capacity = capacity
        self.batch_size = batch_size
        self._rows: deque[dict[str, Any]] = deque()
        self._batch_ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, row: dict[str, Any]) -> bool:
        """Queue a row; False (and counted) when the buffer is full."""
        if len(self._rows) >= self.capacity:
            DROPPED.labels(reason="buffer_full").inc()
            return False
        self._rows.append(row)
        if len(self._rows) >= self.batch_size:
            self._batch_ready.set()
        return True

    def take(self) -> list[dict[str, Any]]:
        """Remove and return up to one batch of rows."""
        count = min(len(self._rows), self.batch_size)
        batch = [self._rows.popleft() for _ in range(count)]
        if len(self._rows) < self.batch_size:
            self._batch_ready.clear()
        return batch

    def wake(self) -> None:
        """Make a pending `wait_for_batch` return now."""
        self._batch_ready.set()

    async def wait_for_batch(self, seconds: float) -> None:
        """Return when a full batch is waiting or after `seconds`."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._batch_ready.wait(), seconds)


class RequestLogWriter:
    """Writes the buffer to `api_request_logs` in batches."""

    def __init__(
        self, database: Database, buffer: RequestLogBuffer, settings: RequestLogSettings
    ) -> None:
        self.database = database
        self.buffer = buffer
        self.settings = settings
        self._stopping = False

    async def write(self, rows: Sequence[dict[str, Any]]) -> bool:
        """Insert one batch (executemany) in its own session; on failure drop and count it."""
        if not rows:
            return True
        try:
            async with asyncio.timeout(self.settings.flush_timeout_seconds):
                async with self.database.session() as session:
                    await session.execute(insert(RequestLog), list(rows))
                    await session.commit()
        except Exception as exc:
            DROPPED.labels(reason="write_failed").inc(len(rows))
            logger.warning("dropped %d request-log rows: %s", len(rows), type(exc).__name__)
            return False
        WRITTEN.inc(len(rows))
        return True

    async def flush(self) -> None:
        """Write everything buffered now, batch by batch."""
        while len(self.buffer):
            await self.write(self.buffer.take())

    def stop(self) -> None:
        """Ask `run` to return after the batch it is writing (then `flush` the rest)."""
        self._stopping = True
        self.buffer.wake()

    async def run(self) -> None:
        """Flush by size or interval, until `stop`."""
        while not self._stopping:
            await self.buffer.wait_for_batch(self.settings.flush_interval_seconds)
            await self.write(self.buffer.take())


class RequestLogMiddleware:
    """Pure ASGI middleware that queues one row per request under the configured prefixes."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        buffer: Callable[[], RequestLogBuffer | None],
        path_prefixes: Sequence[str],
        client_ip: ClientIp = peer_ip,
    ) -> None:
        self.app = app
        self.buffer = buffer
        self.path_prefixes = tuple(path_prefixes)
        self.client_ip = client_ip

    def _wanted(self, scope: Scope) -> bool:
        if scope["type"] != "http":
            return False
        path: str = scope["path"]
        return path.startswith(self.path_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._wanted(scope):
            await self.app(scope, receive, send)
            return
        await observe(self.app, scope, receive, send, self._record)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        buffer = self.buffer()
        if buffer is None:
            return
        ip = self.client_ip(scope)
        buffer.add(
            {
                "id": new_id(),
                "created_at": utcnow() - timedelta(seconds=seconds),
                "method": scope["method"][:10],
                "route": logged_route(scope),
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "user_id": principal_id(scope),
                "api_key_id": principal_id(scope, "api_key_id"),
                "client_ip": ip[:MAX_IP_LENGTH] if ip else None,
                "request_id": (scope.get("state") or {}).get("request_id"),
            }
        )


def install_request_log(app: FastAPI, settings: RequestLogSettings, client_ip: ClientIp) -> None:
    """Add the middleware; rows go to `app.state.request_log_buffer` once the lifespan made it."""
    if not settings.enabled:
        return
    app.add_middleware(
        RequestLogMiddleware,
        buffer=lambda: getattr(app.state, "request_log_buffer", None),
        path_prefixes=settings.path_prefixes,
        client_ip=client_ip,
    )


def request_log_lifespan(settings: RequestLogSettings) -> Callable[[FastAPI], Any]:
    """Start-up: make the buffer and start the writer; shut-down: stop it and flush the rest."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.enabled:
            yield
            return
        buffer = RequestLogBuffer(settings.buffer_size, settings.batch_size)
        writer = RequestLogWriter(app.state.database, buffer, settings)
        app.state.request_log_buffer = buffer
        app.state.request_log_writer = writer
        task = asyncio.create_task(writer.run(), name="request-log-writer")
        try:
            yield
        finally:
            writer.stop()
            with suppress(Exception):
                await task
            await writer.flush()
            app.state.request_log_buffer = None

    return lifespan
