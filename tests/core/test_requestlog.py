"""API request logs: one row per API request served, written after a graceful shut-down, never
bodies or query strings; a bounded buffer that drops (and counts) instead of growing."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from configs.requestlog import RequestLogSettings
from core.db import Database, create_engine
from core.platform.requestlog import RequestLog, RequestLogBuffer, RequestLogWriter
from tests.conftest import client_for
from tests.core.test_logging import ROOT, wait_for
from tests.core.test_metrics import free_port
from tests.helpers import bearer, create_user
from tests.ports import refused_port

API = "/api/v1"
# Nothing is flushed by size or interval during these tests: rows reach the table at shut-down.
NO_PERIODIC_FLUSH = {
    "REQUEST_LOG_FLUSH_INTERVAL_SECONDS": "3600",
    "REQUEST_LOG_BATCH_SIZE": "1000",
}


def dropped(reason: str) -> float:
    return REGISTRY.get_sample_value("plinth_request_log_dropped_total", {"reason": reason}) or 0.0


async def all_rows(database: Any) -> list[RequestLog]:
    async with database.session() as session:
        result = await session.execute(select(RequestLog).order_by(RequestLog.created_at))
        return list(result.scalars())


async def test_rows_equal_api_requests_served_after_graceful_shutdown(
    make_app: Any, database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    served: list[tuple[str, int, str]] = []
    async with make_app(**NO_PERIODIC_FLUSH) as app, client_for(app) as client:
        for _ in range(3):
            response = await client.get(f"{API}/users/me?access_token=secret-in-query")
            served.append(
                ("/api/v1/users/me", response.status_code, response.headers["x-request-id"])
            )
        response = await client.get(f"{API}/admin/request-logs", headers=bearer(admin))
        served.append(
            ("/api/v1/admin/request-logs", response.status_code, response.headers["x-request-id"])
        )
        response = await client.get(f"{API}/no/such/route")
        served.append(
            ("/api/v1/no/such/route", response.status_code, response.headers["x-request-id"])
        )
        # Outside /api/v1: served, not logged.
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        assert await all_rows(database) == []  # still buffered: nothing blocked on the database

    rows = await all_rows(database)
    assert len(rows) == len(served)
    assert sorted((r.route, r.status, r.request_id) for r in rows) == sorted(served)
    assert {r.status for r in rows} == {401, 200, 404}
    assert all("?" not in r.route and "secret" not in r.route for r in rows)
    by_route = {r.route: r for r in rows}
    assert by_route["/api/v1/admin/request-logs"].user_id == admin.id
    assert by_route["/api/v1/users/me"].user_id is None
    assert all(r.method == "GET" and r.duration_ms >= 0 and r.client_ip for r in rows)


async def test_route_template_is_logged_not_the_raw_path(make_app: Any, database: Any) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    missing = uuid.uuid4()
    async with make_app(**NO_PERIODIC_FLUSH) as app, client_for(app) as client:
        await client.get(f"{API}/users/{missing}", headers=bearer(admin))
    [row] = await all_rows(database)
    assert str(missing) not in row.route
    assert "{" in row.route


async def test_a_path_with_nul_is_logged_and_does_not_sink_its_batch(
    make_app: Any, database: Any
) -> None:
    """An unmatched path is logged as sent; a NUL in it (which PostgreSQL refuses) is replaced,
    so the rest of the batch is still written."""
    async with make_app(**NO_PERIODIC_FLUSH) as app, client_for(app) as client:
        assert (await client.get(f"{API}/no%00where")).status_code == 404
        assert (await client.get(f"{API}/users/me")).status_code == 401
    rows = await all_rows(database)
    assert sorted(row.route for row in rows) == [f"{API}/no\ufffdwhere", f"{API}/users/me"]


async def test_full_buffer_drops_and_counts_and_the_api_keeps_answering(
    make_app: Any, database: Any
) -> None:
    before = dropped("buffer_full")
    env = {**NO_PERIODIC_FLUSH, "REQUEST_LOG_BUFFER_SIZE": "2"}
    async with make_app(**env) as app, client_for(app) as client:
        statuses = [(await client.get(f"{API}/users/me")).status_code for _ in range(5)]
        assert len(app.state.request_log_buffer) == 2
        metrics = (await client.get("/metrics")).text
    assert statuses == [401] * 5
    assert dropped("buffer_full") - before == 3
    assert 'plinth_request_log_dropped_total{reason="buffer_full"}' in metrics
    assert len(await all_rows(database)) == 2


def unreachable_database(port: int) -> Database:
    """A PostgreSQL URL on `port`, where nothing listens: every connection attempt is refused."""
    return Database(
        create_engine(f"postgresql+asyncpg://plinth:x@127.0.0.1:{port}/none", pool_pre_ping=False)
    )


async def test_unavailable_database_drops_batches_without_raising_or_growing() -> None:
    settings = RequestLogSettings(buffer_size=3, batch_size=2, flush_timeout_seconds=5)
    buffer = RequestLogBuffer(settings.buffer_size, settings.batch_size)
    before_full, before_failed = dropped("buffer_full"), dropped("write_failed")
    row = {"method": "GET", "route": "/x", "status": 200, "duration_ms": 1.0}
    with refused_port() as port:
        database = unreachable_database(port)
        writer = RequestLogWriter(database, buffer, settings)
        try:
            accepted = [buffer.add(dict(row)) for _ in range(5)]
            await writer.flush()
        finally:
            await database.dispose()
    assert accepted == [True, True, True, False, False]
    assert len(buffer) == 0
    assert dropped("buffer_full") - before_full == 2
    assert dropped("write_failed") - before_failed == 3


async def test_pool_exhausted_requests_503_and_their_rows_are_dropped_not_queued_forever(
    make_app: Any, database: Any
) -> None:
    user = await create_user(database)
    env = {
        **NO_PERIODIC_FLUSH,
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "0",
        "DATABASE_POOL_TIMEOUT_SECONDS": "0.2",
        "REQUEST_LOG_FLUSH_TIMEOUT_SECONDS": "1",
    }
    before = dropped("write_failed")
    async with make_app(**env) as app, client_for(app) as client:
        async with app.state.database.engine.connect() as held:
            response = await client.get(f"{API}/users/me", headers=bearer(user))
            assert response.status_code == 503
            await app.state.request_log_writer.flush()  # the pool is still held: cannot write
            assert len(app.state.request_log_buffer) == 0
            await held.rollback()
        response = await client.get(f"{API}/users/me", headers=bearer(user))
        assert response.status_code == 200
    assert dropped("write_failed") - before == 1
    [row] = await all_rows(database)
    assert row.status == 200


async def test_disabled_request_log_writes_nothing(make_app: Any, database: Any) -> None:
    async with make_app(REQUEST_LOG_ENABLED="false") as app, client_for(app) as client:
        assert (await client.get(f"{API}/users/me")).status_code == 401
    assert await all_rows(database) == []


async def test_client_ip_trusts_forwarded_for_only_from_trusted_proxies(
    make_app: Any, database: Any
) -> None:
    spoofed = {"X-Forwarded-For": "6.6.6.6"}
    async with make_app(**NO_PERIODIC_FLUSH) as app, client_for(app) as client:
        await client.get(f"{API}/users/me", headers={**spoofed, "X-Request-ID": "untrusted"})
    env = {**NO_PERIODIC_FLUSH, "TRUSTED_PROXIES": "127.0.0.1/32"}
    async with make_app(**env) as app, client_for(app) as client:
        await client.get(f"{API}/users/me", headers={**spoofed, "X-Request-ID": "via-proxy"})
    ips = {row.request_id: row.client_ip for row in await all_rows(database)}
    assert ips == {"untrusted": "127.0.0.1", "via-proxy": "6.6.6.6"}


@pytest.mark.slow
def test_a_real_server_stopped_with_sigterm_has_logged_every_request(
    leg: Any, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        **NO_PERIODIC_FLUSH,
        "APP_PORT": str(port),
        "APP_HOST": "127.0.0.1",
        "DATABASE_AUTO_MIGRATE": "false",
        "RATE_LIMIT_ENABLED": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    served = 0
    try:
        wait_for(f"http://127.0.0.1:{port}/health/live", process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for index in range(25):
                client.get(f"{API}/users/me", headers={"X-Request-ID": f"real-{index}"})
                served += 1
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal: -SIGTERM is a clean exit.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    rows = asyncio.run(_count_rows(leg.database_url))
    assert rows == served


async def _count_rows(url: str) -> int:
    database = Database(create_engine(url, pool_size=1))
    try:
        async with database.session() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(RequestLog)
                .where(RequestLog.request_id.like("real-%"))
            )
    finally:
        await database.dispose()
    return int(count or 0)
