"""The container's start command, for real: compose/entrypoint + compose/start (gunicorn with two
uvicorn workers) on the test PostgreSQL and Redis, after the migrate step the compose file runs.

Each HTTP connection is pinned to the worker that accepted it (found through /proc), so "holds
across both workers" is checked, not hoped for. Linux only; services leg only (two processes
can only share limits and revocations through Redis and PostgreSQL).
"""

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from core.db import create_engine
from tests.conftest import TEST_SECRET, Leg
from tests.ports import PortTaken, on_free_port
from tests.workers import (
    Connection,
    child_pids,
    close_all,
    connections_per_worker,
    interleaved,
    server_sockets,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
PASSWORD = "correct horse battery"
FAILED_LOGINS_ALLOWED = 4
START_TIMEOUT = 60.0


@pytest.fixture(scope="module", autouse=True)
def services_only(leg: Leg) -> None:
    if not leg.is_services:
        pytest.skip(
            "services leg only: gunicorn workers share limits and revocations through "
            "PostgreSQL and Redis, which the embedded leg does not run"
        )


def container_env(leg: Leg, database: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment a container would get, pointed at this leg's servers."""
    assert leg.postgres is not None and leg.redis is not None
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(workdir),
        "APP_ENV": "production",
        "APP_HOST": "127.0.0.1",
        "APP_WORKERS": str(WORKERS),
        "APP_DATA_DIR": str(workdir),
        "AUTH_SECRET_KEY": TEST_SECRET,
        # The tests register and sign in at once, without following the emailed link
        # (production refuses unverified sign-ins unless told otherwise).
        "AUTH_ALLOW_UNVERIFIED_LOGIN": "true",
        "DATABASE_URL": leg.postgres.create_database(database),
        "DATABASE_AUTO_MIGRATE": "false",
        "DATABASE_POOL_SIZE": "3",
        "REDIS_URL": leg.redis.url(db=3),
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
        "SERVER_KEEPALIVE_SECONDS": "60",
        "SERVER_GRACEFUL_TIMEOUT_SECONDS": "20",
        "SERVER_WAIT_TIMEOUT_SECONDS": "10",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@dataclass
class Server:
    """A running `compose/entrypoint compose/start`."""

    process: subprocess.Popen[bytes]
    port: int
    database_url: str
    log: Path
    workers: set[int] = field(default_factory=set)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]


def migrate(env: dict[str, str]) -> None:
    """The compose `migrate` service: the entrypoint, then `alembic upgrade heads`."""
    result = subprocess.run(
        [str(ROOT / "compose" / "entrypoint"), "alembic", "upgrade", "heads"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def start(env: dict[str, str], workdir: Path) -> Server:
    """Migrate, then serve on a free port (another one if it is taken before gunicorn binds)."""
    migrate(env)
    return on_free_port(lambda port: launch({**env, "APP_PORT": str(port)}, workdir))


def launch(env: dict[str, str], workdir: Path) -> Server:
    log = workdir / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / "compose" / "entrypoint"), str(ROOT / "compose" / "start")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, int(env["APP_PORT"]), env["DATABASE_URL"], log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None and "Connection in use" in server.output():
            raise PortTaken(env["APP_PORT"])
        assert process.poll() is None, f"gunicorn exited:\n{server.output()}"
        assert time.monotonic() < deadline, f"gunicorn not ready:\n{server.output()}"
        server.workers = child_pids(process.pid)
        if len(server.workers) == WORKERS and all_workers_answer(server):
            return server
        time.sleep(0.2)


def all_workers_answer(server: Server) -> bool:
    try:
        return len(connections_per_worker(server, per_worker=1, attempts=30)) == WORKERS
    except (OSError, http.client.HTTPException):
        return False


def stop(server: Server) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        return server.process.wait()


def register_and_login(connection: Connection, email: str) -> str:
    body = json.dumps({"email": email, "password": PASSWORD})
    status, _ = connection.request(
        "POST", "/api/v1/auth/register", body, **{"Content-Type": "application/json"}
    )
    assert status == 201
    status, tokens = login(connection, email, PASSWORD)
    assert status == 200, tokens
    return str(tokens["access_token"])


def login(connection: Connection, email: str, password: str, **headers: str) -> Any:
    form = urlencode({"username": email, "password": password})
    content_type = {"Content-Type": "application/x-www-form-urlencoded"}
    return connection.request("POST", "/api/v1/auth/login", form, **content_type, **headers)


# -- one server for the behaviour tests -------------------------------------------------------


@pytest.fixture(scope="module")
def server(leg: Leg, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("gunicorn")
    env = container_env(
        leg,
        "plinth_gunicorn",
        workdir,
        RATE_LIMIT_LOGIN_ACCOUNT_CLIENT=f"{FAILED_LOGINS_ALLOWED}/15m",
    )
    running = start(env, workdir)
    yield running
    assert stop(running) == 0, running.output()


@pytest.fixture
def pinned(server: Server) -> Iterator[dict[int, list[Connection]]]:
    connections = connections_per_worker(server, per_worker=2)
    assert set(connections) == server.workers, "both workers must hold a connection"
    yield connections
    close_all(connections)


def test_both_workers_are_ready(server: Server, pinned: dict[int, list[Connection]]) -> None:
    for connection in interleaved(pinned):
        status, body = connection.request("GET", "/health/ready")
        assert status == 200
        assert body["checks"] == {"database": "ok", "redis": "ok", "jobs": "degraded"}  # no worker


def test_a_login_works_and_its_token_is_accepted_by_every_worker(
    pinned: dict[int, list[Connection]],
) -> None:
    connections = interleaved(pinned)
    token = register_and_login(connections[0], "login@example.com")
    for connection in connections:
        status, me = connection.request("GET", "/api/v1/users/me", Authorization=f"Bearer {token}")
        assert status == 200
        assert me["email"] == "login@example.com"


def test_the_failed_login_limit_holds_across_workers(pinned: dict[int, list[Connection]]) -> None:
    """Per-process counters would let each worker allow the limit: 2x the attempts."""
    connections = interleaved(pinned)
    register_and_login(connections[0], "limited@example.com")
    results = []
    for attempt in range(FAILED_LOGINS_ALLOWED * WORKERS):
        connection = connections[attempt % len(connections)]
        status, _ = login(connection, "limited@example.com", "wrong password!")
        results.append((status, connection.worker, connection.headers.get("retry-after")))
    statuses = [status for status, _, _ in results]
    assert statuses == [401] * FAILED_LOGINS_ALLOWED + [429] * FAILED_LOGINS_ALLOWED
    assert {worker for status, worker, _ in results if status == 429} == set(pinned)
    assert all(retry for status, _, retry in results if status == 429)


def test_a_revocation_holds_on_every_worker(pinned: dict[int, list[Connection]]) -> None:
    connections = interleaved(pinned)
    token = register_and_login(connections[0], "revoked@example.com")
    bearer = {"Authorization": f"Bearer {token}"}
    assert all(c.request("GET", "/api/v1/users/me", **bearer)[0] == 200 for c in connections)
    status, _ = connections[1].request("POST", "/api/v1/auth/logout-all", **bearer)
    assert status == 204
    answers = [
        (connection.worker, connection.request("GET", "/api/v1/users/me", **bearer)[0])
        for _ in range(5)
        for connection in connections
    ]
    assert {status for _, status in answers} == {401}
    assert {worker for worker, _ in answers} == set(pinned)


# -- X-Forwarded-For under the real server ------------------------------------------------------

PROXY = "127.0.0.2"  # a loopback address of its own, configured as the trusted proxy
FAILED_LOGINS_PER_IP = 3


@pytest.fixture(scope="module")
def proxied_server(leg: Leg, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The production start with a per-IP failed-login limit and one trusted proxy."""
    workdir = tmp_path_factory.mktemp("gunicorn-proxied")
    env = container_env(
        leg,
        "plinth_gunicorn_proxied",
        workdir,
        REDIS_URL=leg.redis.url(db=4) if leg.redis else "",
        RATE_LIMIT_LOGIN_IP=f"{FAILED_LOGINS_PER_IP}/15m",
        TRUSTED_PROXIES=PROXY,
        REQUEST_LOG_FLUSH_INTERVAL_SECONDS="0.2",
    )
    running = start(env, workdir)
    yield running
    assert stop(running) == 0, running.output()


def failed_logins(
    connections: list[Connection], forwarded_for: list[str], prefix: str
) -> list[int]:
    """One failed login per forwarded address, each for another account, round the workers."""
    statuses = []
    for index, address in enumerate(forwarded_for):
        connection = connections[index % len(connections)]
        headers = {"X-Forwarded-For": address, "X-Request-ID": f"{prefix}{index}"}
        status, _ = login(connection, f"{prefix}{index}@example.com", "wrong password!", **headers)
        statuses.append(status)
    return statuses


async def logged_client_ips(database_url: str, prefix: str, count: int) -> list[str]:
    """The client_ip of the request-log rows of `prefix`, once all `count` are written."""
    engine = create_engine(database_url)
    query = text(
        "SELECT client_ip FROM api_request_logs WHERE request_id LIKE :prefix ORDER BY request_id"
    )
    try:
        for _ in range(300):
            async with engine.connect() as connection:
                rows = (await connection.execute(query, {"prefix": f"{prefix}%"})).scalars().all()
            if len(rows) >= count:
                return [str(row) for row in rows]
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    raise AssertionError(f"only {len(rows)} of {count} request-log rows were written")


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(
    proxied_server: Server,
) -> None:
    """From loopback (trusted by uvicorn's own proxy_headers, which the production worker turns
    off), a different X-Forwarded-For on each guess changes nothing: the peer is the client."""
    pinned = await asyncio.to_thread(connections_per_worker, proxied_server, 1)
    assert set(pinned) == proxied_server.workers
    spoofed = [f"203.0.113.{index}" for index in range(1, FAILED_LOGINS_PER_IP + 3)]
    try:
        statuses = await asyncio.to_thread(failed_logins, interleaved(pinned), spoofed, "spoofed-")
    finally:
        close_all(pinned)
    assert statuses == [401] * FAILED_LOGINS_PER_IP + [429] * 2
    logged = await logged_client_ips(proxied_server.database_url, "spoofed-", len(spoofed))
    assert logged == ["127.0.0.1"] * len(spoofed)


async def test_a_trusted_proxy_forwards_the_address_that_counts(proxied_server: Server) -> None:
    """From the configured proxy, the forwarded client is limited, not the proxy itself."""
    pinned = await asyncio.to_thread(connections_per_worker, proxied_server, 1, 60, PROXY)
    assert set(pinned) == proxied_server.workers
    one_client = ["198.51.100.7"] * (FAILED_LOGINS_PER_IP + 1) + ["198.51.100.8"]
    try:
        statuses = await asyncio.to_thread(
            failed_logins, interleaved(pinned), one_client, "proxied-"
        )
    finally:
        close_all(pinned)
    assert statuses == [401] * FAILED_LOGINS_PER_IP + [429, 401]
    logged = await logged_client_ips(proxied_server.database_url, "proxied-", len(one_client))
    assert logged == one_client


# -- graceful shutdown ------------------------------------------------------------------------


async def count_request_logs(database_url: str, request_id_prefix: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                text("SELECT count(*) FROM api_request_logs WHERE request_id LIKE :prefix"),
                {"prefix": f"{request_id_prefix}%"},
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


def start_login_but_hold_its_last_byte(connection: Connection, request_id: str) -> bytes:
    """Send a login whose body lacks its last byte: the worker is serving it, waiting for the
    rest, for as long as we like. Returns the byte."""
    form = urlencode({"username": "drain@example.com", "password": PASSWORD}).encode()
    connection.http.putrequest("POST", "/api/v1/auth/login")
    for name, value in (
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Content-Length", str(len(form))),
        ("X-Request-ID", request_id),
    ):
        connection.http.putheader(name, value)
    connection.http.endheaders()
    connection.http.send(form[:-1])
    return form[-1:]


def wait_until_read(server: Server, connections: list[Connection]) -> None:
    """Until the workers have read every byte sent on `connections` (bounded)."""
    deadline = time.monotonic() + 30
    while True:
        sockets = server_sockets(server.port)
        if all(sockets.get(c.client_port, (0, 1))[1] == 0 for c in connections):
            return
        assert time.monotonic() < deadline, "the workers did not read the requests"
        time.sleep(0.01)


def wait_until_closed_by_the_server(connection: Connection) -> None:
    """Until the worker closes this idle keep-alive connection: it has begun shutting down."""
    assert connection.http.sock is not None
    connection.http.sock.settimeout(30)
    assert connection.http.sock.recv(1) == b"", "an idle connection got data"


def logins_across_a_sigterm(server: Server, prefix: str) -> tuple[list[tuple[int, str]], int]:
    """Three logins in flight per worker when gunicorn gets SIGTERM; each is completed only once
    both workers are shutting down. Returns each answer (status, Connection header) and
    gunicorn's exit code."""
    pinned = connections_per_worker(server, per_worker=4)
    assert set(pinned) == server.workers
    register_and_login(pinned[min(pinned)][0], "drain@example.com")  # two more API requests
    idle = [group[-1] for group in pinned.values()]
    busy = [connection for group in pinned.values() for connection in group[:-1]]
    last_bytes = [
        start_login_but_hold_its_last_byte(connection, f"{prefix}{index}")
        for index, connection in enumerate(busy)
    ]
    wait_until_read(server, busy)
    server.process.send_signal(signal.SIGTERM)
    for connection in idle:
        wait_until_closed_by_the_server(connection)
    answers = []
    for connection, last in zip(busy, last_bytes, strict=True):
        connection.http.send(last)
        status, _ = connection.receive()
        answers.append((status, connection.headers.get("connection", "")))
    return answers, stop(server)


async def test_sigterm_finishes_requests_in_flight_and_flushes_request_logs(
    leg: Leg, tmp_path: Path
) -> None:
    """SIGTERM while logins are in flight on both workers: each worker closes its idle
    connection, every login still gets its 200 (with `Connection: close`), gunicorn exits 0, and
    every API request left a row — the buffer (flushed only every minute here) was written at
    shut-down."""
    env = container_env(leg, "plinth_sigterm", tmp_path, REQUEST_LOG_FLUSH_INTERVAL_SECONDS="60")
    server = await asyncio.to_thread(start, env, tmp_path)
    prefix = f"sigterm-{uuid.uuid4().hex[:8]}-"
    try:
        answers, exit_code = await asyncio.to_thread(logins_across_a_sigterm, server, prefix)
    finally:
        await asyncio.to_thread(stop, server)
    in_flight = WORKERS * 3
    assert answers == [(200, "close")] * in_flight, server.output()
    assert exit_code == 0, server.output()
    assert await count_request_logs(server.database_url, prefix) == in_flight
    assert await count_request_logs(server.database_url, "") == in_flight + 2
