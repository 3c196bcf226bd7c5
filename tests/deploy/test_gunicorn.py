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
import socket
import subprocess
import sys
import threading
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def container_env(leg: Leg, database: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment a container would get, pointed at this leg's servers."""
    assert leg.postgres is not None and leg.redis is not None
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(workdir),
        "APP_ENV": "production",
        "APP_HOST": "127.0.0.1",
        "APP_PORT": str(free_port()),
        "APP_WORKERS": str(WORKERS),
        "APP_DATA_DIR": str(workdir),
        "AUTH_SECRET_KEY": TEST_SECRET,
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


def child_pids(parent: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.add(int(stat.parent.name))
    return children


def start(env: dict[str, str], workdir: Path) -> Server:
    migrate(env)
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


# -- connections pinned to a worker -------------------------------------------------------------


def _server_socket_inode(server_port: int, client_port: int) -> int | None:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local, remote, inode = parts[1], parts[2], parts[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return int(inode)
    return None


def _holder(inode: int, pids: set[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    return pid
            except OSError:
                continue
    return None


class Connection:
    """One keep-alive HTTP/1.1 connection; `worker` is the pid of the process serving it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.http.auto_open = 0  # never silently reconnect (possibly to the other worker)
        self.http.connect()
        self.status, _ = self.request("GET", "/health/live")
        self.worker = self._find_worker()

    def _find_worker(self) -> int | None:
        assert self.http.sock is not None
        inode = _server_socket_inode(self.server.port, self.http.sock.getsockname()[1])
        return None if inode is None else _holder(inode, self.server.workers)

    def send(self, method: str, path: str, body: str | None = None, **headers: str) -> None:
        self.http.request(method, path, body=body, headers=headers)

    def receive(self) -> tuple[int, Any]:
        response = self.http.getresponse()
        data = response.read()
        self.headers = dict(response.getheaders())
        return response.status, json.loads(data) if data else None

    def request(self, method: str, path: str, body: str | None = None, **headers: str) -> Any:
        self.send(method, path, body, **headers)
        return self.receive()

    def close(self) -> None:
        self.http.close()


def connections_per_worker(
    server: Server, per_worker: int, attempts: int = 60
) -> dict[int, list[Connection]]:
    """Open connections until each worker holds `per_worker` of them."""
    pinned: dict[int, list[Connection]] = {}
    for _ in range(attempts):
        connection = Connection(server)
        if connection.worker is None or len(pinned.get(connection.worker, [])) >= per_worker:
            connection.close()
        else:
            pinned.setdefault(connection.worker, []).append(connection)
        if len(pinned) == WORKERS and all(len(c) == per_worker for c in pinned.values()):
            break
    return pinned


def interleaved(pinned: dict[int, list[Connection]]) -> list[Connection]:
    """worker A, worker B, worker A, ... so consecutive requests change process."""
    columns = list(zip(*pinned.values(), strict=False))
    return [connection for column in columns for connection in column]


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
        leg, "plinth_gunicorn", workdir, RATE_LIMIT_LOGIN_ACCOUNT=f"{FAILED_LOGINS_ALLOWED}/15m"
    )
    running = start(env, workdir)
    yield running
    assert stop(running) == 0, running.output()


@pytest.fixture
def pinned(server: Server) -> Iterator[dict[int, list[Connection]]]:
    connections = connections_per_worker(server, per_worker=2)
    assert set(connections) == server.workers, "both workers must hold a connection"
    yield connections
    for group in connections.values():
        for connection in group:
            connection.close()


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


def logins_across_a_sigterm(
    server: Server, prefix: str
) -> tuple[list[int | str], list[float], int]:
    """Put a login in flight on three connections per worker, SIGTERM gunicorn, collect every
    answer (status or connection error), how long after the signal it came, and gunicorn's exit
    code."""
    pinned = connections_per_worker(server, per_worker=3)
    assert set(pinned) == server.workers
    connections = interleaved(pinned)
    register_and_login(connections[0], "drain@example.com")  # two more API requests
    barrier = threading.Barrier(len(connections) + 1)
    answers: list[int | str] = []
    answered_at: list[float] = []

    def log_in(index: int, connection: Connection) -> None:
        form = urlencode({"username": "drain@example.com", "password": PASSWORD})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Request-ID": f"{prefix}{index}",
        }
        connection.send("POST", "/api/v1/auth/login", form, **headers)
        barrier.wait()
        try:
            answers.append(connection.receive()[0])
        except (OSError, http.client.HTTPException) as exc:
            answers.append(type(exc).__name__)
        answered_at.append(time.monotonic())

    threads = [threading.Thread(target=log_in, args=item) for item in enumerate(connections)]
    for thread in threads:
        thread.start()
    barrier.wait()  # every request is on the wire
    time.sleep(0.02)  # and being served (argon2 takes longer than this)
    signalled_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=40)
    return answers, [at - signalled_at for at in answered_at], stop(server)


async def test_sigterm_finishes_requests_in_flight_and_flushes_request_logs(
    leg: Leg, tmp_path: Path
) -> None:
    """SIGTERM while logins (argon2, ~0.1 s each) are in flight on both workers: every one gets
    its answer, gunicorn exits 0, and every API request left a row — the buffer (flushed only
    every minute here) was written at shut-down."""
    env = container_env(leg, "plinth_sigterm", tmp_path, REQUEST_LOG_FLUSH_INTERVAL_SECONDS="60")
    server = await asyncio.to_thread(start, env, tmp_path)
    prefix = f"sigterm-{uuid.uuid4().hex[:8]}-"
    try:
        answers, delays, exit_code = await asyncio.to_thread(
            logins_across_a_sigterm, server, prefix
        )
    finally:
        await asyncio.to_thread(stop, server)
    in_flight = WORKERS * 3
    assert answers == [200] * in_flight, server.output()
    assert all(delay > 0 for delay in delays), f"answered before the signal: {delays}"
    assert exit_code == 0, server.output()
    assert await count_request_logs(server.database_url, prefix) == in_flight
    assert await count_request_logs(server.database_url, "") == in_flight + 2
