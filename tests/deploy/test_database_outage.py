"""PostgreSQL stopped and started again under the container's start command (gunicorn, two
uvicorn workers): while it is down every API request answers 503 problem+json with Retry-After
on both workers, never 500; once it is back, both workers answer 200 again within seconds.

The server is a PostgreSQL of this test's own (the leg's stays up for everyone else), halted
with a fast shutdown and resumed on the same port. Services leg only, like test_gunicorn.
"""

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Leg
from tests.deploy.test_gunicorn import Server, container_env, register_and_login, start, stop
from tests.servers import PostgresServer, start_postgres
from tests.workers import Connection, connections_per_worker, interleaved

pytestmark = pytest.mark.slow

ROUNDS_WHILE_DOWN = 3
RECOVERY_DEADLINE_SECONDS = 15.0
ROUNDS_AFTER_RECOVERY = 5


@pytest.fixture(scope="module", autouse=True)
def services_only(leg: Leg) -> None:
    if not leg.is_services:
        pytest.skip("services leg only: it stops and restarts a real PostgreSQL server")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with start_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def server(
    leg: Leg, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("outage")
    env = container_env(dataclasses.replace(leg, postgres=postgres), "plinth_outage", workdir)
    running = start(env, workdir)
    yield running
    assert stop(running) == 0, running.output()


def api_requests(connection: Connection, token: str) -> list[tuple[int, dict[str, str], object]]:
    """A read and a write with the token: (status, headers, body) of each."""
    bearer = {"Authorization": f"Bearer {token}"}
    answers = []
    status, body = connection.request("GET", "/api/v1/users/me", **bearer)
    answers.append((status, connection.headers, body))
    key = json.dumps({"name": "outage", "scopes": ["regular"]})
    content = {"Content-Type": "application/json"}
    status, body = connection.request("POST", "/api/v1/users/me/api-keys", key, **bearer, **content)
    answers.append((status, connection.headers, body))
    return answers


def until_both_workers_succeed(connections: list[Connection], token: str) -> tuple[float, set[int]]:
    """Seconds until every connection's requests succeed, and every status seen meanwhile."""
    started = time.monotonic()
    seen: set[int] = set()
    while time.monotonic() - started < RECOVERY_DEADLINE_SECONDS:
        statuses = [s for c in connections for s, _, _ in api_requests(c, token)]
        seen.update(statuses)
        if set(statuses) == {200, 201}:
            return time.monotonic() - started, seen
        time.sleep(0.1)
    raise AssertionError(f"not recovered after {RECOVERY_DEADLINE_SECONDS}s: saw {seen}")


def test_postgres_down_is_503_on_every_worker_and_recovery_is_full(
    server: Server, postgres: PostgresServer, tmp_path: Path
) -> None:
    pinned = connections_per_worker(server, per_worker=1)
    assert set(pinned) == server.workers, "both workers must hold a connection"
    connections = interleaved(pinned)
    token = register_and_login(connections[0], "outage@example.com")
    assert {s for c in connections for s, _, _ in api_requests(c, token)} == {200, 201}

    postgres.halt()
    try:
        down = [
            (connection.worker, answer)
            for _ in range(ROUNDS_WHILE_DOWN)
            for connection in connections
            for answer in api_requests(connection, token)
        ]
    finally:
        postgres.resume()
    assert {status for _, (status, _, _) in down} == {503}, server.output()
    assert {worker for worker, _ in down} == server.workers
    for _, (_, headers, body) in down:
        assert headers["content-type"] == "application/problem+json"
        assert int(headers["retry-after"]) >= 1
        assert isinstance(body, dict) and body["status"] == 503

    seconds, seen = until_both_workers_succeed(connections, token)
    assert seen <= {200, 201, 503}, f"only 503s before recovery, saw {seen}"
    print(f"recovered on both workers {seconds:.2f}s after PostgreSQL accepted connections")
    for _ in range(ROUNDS_AFTER_RECOVERY):
        statuses = {s for c in connections for s, _, _ in api_requests(c, token)}
        assert statuses == {200, 201}
    for connection in connections:
        connection.close()
