"""Prometheus metrics: HTTP traffic, the database pool, and GET /metrics.

Other core modules define their own counters in the default registry (rate limiting, cache,
request-log drops); /metrics exposes everything registered there.

Several worker processes: set PROMETHEUS_MULTIPROC_DIR (an empty, writable directory) before
the workers start. Every process then writes its values to files there and /metrics (or the
separate metrics port) aggregates them. Under gunicorn use the hooks below:

    # compose/gunicorn.conf.py
    from core.platform.metrics import gunicorn_child_exit as child_exit
    from core.platform.metrics import gunicorn_on_starting as on_starting
    from core.platform.metrics import gunicorn_when_ready as when_ready
"""

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

from configs.metrics import MetricsSettings
from core.errors import Forbidden, Unauthorized
from core.middleware import is_probe, observe
from core.platform.requestlog import route_template
from core.security import constant_time_equals

logger = logging.getLogger("plinth.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"

REQUESTS = Counter(
    "plinth_http_requests",
    "HTTP requests served, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "plinth_http_request_duration_seconds",
    "Time to serve an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
IN_PROGRESS = Gauge(
    "plinth_http_requests_in_progress",
    "HTTP requests being served.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "plinth_db_pool_size",
    "Connections the database pool keeps (summed over live workers).",
    multiprocess_mode="livesum",
)
POOL_CHECKED_OUT = Gauge(
    "plinth_db_pool_checked_out",
    "Database connections in use (summed over live workers).",
    multiprocess_mode="livesum",
)
POOL_OVERFLOW = Gauge(
    "plinth_db_pool_overflow",
    "Connections open beyond the pool size (summed over live workers).",
    multiprocess_mode="livesum",
)


def multiprocess_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR when several processes share metrics, else None."""
    return os.environ.get(MULTIPROC_ENV) or None


def metrics_registry() -> CollectorRegistry:
    """The registry to expose: every process's files in multiprocess mode, else this process."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def render_metrics() -> bytes:
    """The Prometheus text exposition of every metric."""
    return generate_latest(metrics_registry())


# -- HTTP traffic -----------------------------------------------------------------------------


class MetricsMiddleware:
    """Pure ASGI middleware counting requests and timing them by route template (never by raw
    path, so unknown URLs cannot blow up the number of series). Health probes and scrapes are
    not counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_probe(scope):
            await self.app(scope, receive, send)
            return
        IN_PROGRESS.inc()
        await observe(self.app, scope, receive, send, self._count)

    @staticmethod
    def _count(scope: Scope, status: int, seconds: float) -> None:
        IN_PROGRESS.dec()
        route = route_template(scope) or UNMATCHED_ROUTE
        method = scope["method"]
        REQUESTS.labels(route=route, method=method, status=str(status)).inc()
        LATENCY.labels(route=route, method=method).observe(seconds)


# -- database pool ----------------------------------------------------------------------------


def _pool_reading(pool: Any, name: str) -> int:
    reader = getattr(pool, name, None)
    if not callable(reader):
        return 0
    try:
        return max(int(reader()), 0)
    except Exception:
        return 0


def update_pool_gauges(engine: AsyncEngine) -> None:
    """Copy the pool's size, checked-out and overflow counts into the gauges."""
    pool = engine.sync_engine.pool
    POOL_SIZE.set(_pool_reading(pool, "size"))
    POOL_CHECKED_OUT.set(_pool_reading(pool, "checkedout"))
    POOL_OVERFLOW.set(_pool_reading(pool, "overflow"))


POOL_REFRESH_SECONDS = 1.0
"""How often each worker copies its pool readings into the gauges (between scrapes)."""


def observe_pool(engine: AsyncEngine) -> None:
    """Update the pool gauges when connections open or close. Checkouts and checkins (two
    per request) are not hooked: in multiprocess mode every gauge write is an mmap write under
    a lock, so `refresh_pool_gauges` copies the readings once a second instead, and the
    scraping worker reads its own at scrape time."""

    def refresh(*_: Any) -> None:
        update_pool_gauges(engine)

    for name in ("connect", "close"):
        event.listen(engine.sync_engine.pool, name, refresh)
    refresh()


async def refresh_pool_gauges(engine: AsyncEngine, seconds: float = POOL_REFRESH_SECONDS) -> None:
    """Copy the pool readings into the gauges every `seconds`, until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        update_pool_gauges(engine)


# -- GET /metrics -----------------------------------------------------------------------------


def _authorize(request: Request, settings: MetricsSettings, production: bool) -> None:
    if settings.token is None:
        if production:
            raise Forbidden(
                "Metrics are off on the main app in production: set METRICS_TOKEN, or "
                "METRICS_PORT to serve them on a separate port."
            )
        return
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not constant_time_equals(
        credentials, settings.token.get_secret_value()
    ):
        raise Unauthorized("A valid metrics token is required.")


def install_metrics(app: FastAPI, settings: MetricsSettings, *, production: bool) -> None:
    """Count traffic, and serve GET /metrics on the main app unless METRICS_PORT moves it."""
    if not settings.enabled:
        return
    app.add_middleware(MetricsMiddleware)
    if settings.port is not None:
        return

    async def metrics(request: Request) -> Response:
        _authorize(request, settings, production)
        database = getattr(request.app.state, "database", None)
        if database is not None:
            update_pool_gauges(database.engine)
        return Response(render_metrics(), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(settings.path, metrics, methods=["GET"], include_in_schema=False)


def metrics_port_server(settings: MetricsSettings) -> Callable[[], None] | None:
    """Serve metrics on METRICS_HOST:METRICS_PORT in a thread; returns the stop function.

    Under gunicorn with several workers this runs in the master (`gunicorn_when_ready`).
    """
    if not settings.enabled or settings.port is None:
        return None
    try:
        server, thread = start_http_server(
            settings.port, addr=settings.host, registry=metrics_registry()
        )
    except OSError as exc:  # e.g. another uvicorn worker holds the port: serve the app anyway
        logger.warning("metrics port %s unavailable: %s", settings.port, exc)
        return None
    logger.info("metrics served on %s:%s", settings.host, settings.port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop


# -- gunicorn hooks (multiprocess mode) -------------------------------------------------------


def clear_multiprocess_dir(path: str | Path | None = None) -> None:
    """Empty PROMETHEUS_MULTIPROC_DIR (stale files from an earlier run would be counted)."""
    target = Path(path or multiprocess_dir() or "")
    if not str(target) or str(target) == ".":
        return
    if target.exists():
        for child in target.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    target.mkdir(parents=True, exist_ok=True)


def gunicorn_on_starting(server: Any) -> None:
    """gunicorn `on_starting`: clear the multiprocess directory before any worker forks."""
    if multiprocess_dir():
        clear_multiprocess_dir()


def gunicorn_child_exit(server: Any, worker: Any) -> None:
    """gunicorn `child_exit`: drop a dead worker's live gauges (pool, in-progress)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def gunicorn_when_ready(server: Any) -> None:
    """gunicorn `when_ready`: with METRICS_PORT and PROMETHEUS_MULTIPROC_DIR set, serve the
    aggregated metrics from the master, so one port answers for every worker. Without the
    directory (one worker) the worker serves the port itself."""
    from configs import get_settings

    if multiprocess_dir():
        metrics_port_server(get_settings().metrics)


def metrics_lifespan(settings: MetricsSettings) -> Callable[[FastAPI], Any]:
    """Watch the database pool; serve METRICS_PORT from this process unless gunicorn's master
    does (multiprocess mode)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        refresher = None
        if settings.enabled:
            observe_pool(app.state.database.engine)
            refresher = asyncio.create_task(refresh_pool_gauges(app.state.database.engine))
        stop = None if multiprocess_dir() else metrics_port_server(settings)
        try:
            yield
        finally:
            if refresher is not None:
                refresher.cancel()
            if stop is not None:
                stop()

    return lifespan
