"""/metrics under gunicorn with two workers: every scrape counts the requests of both.

Connections are pinned to workers (tests/workers.py), so each worker serves a known number of
requests and its own counter file is checked against it: an idle worker cannot hide.
"""

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.ports import PortTaken, free_port, on_free_port
from tests.workers import child_pids, close_all, connections_per_worker

ROOT = Path(__file__).resolve().parents[2]
ROUTE = "/api/v1/users/me"
GUNICORN_CONFIG = """
from core.platform.metrics import gunicorn_child_exit as child_exit
from core.platform.metrics import gunicorn_on_starting as on_starting
from core.platform.metrics import gunicorn_when_ready as when_ready

worker_class = "uvicorn_worker.UvicornWorker"
keepalive = 60
"""


@dataclass
class Gunicorn:
    """A running gunicorn: where its app and its metrics answer, and its workers."""

    port: int
    metrics_url: str
    metrics_dir: Path
    workers: set[int] = field(default_factory=set)


def counted(samples: Iterable[Any]) -> float:
    return float(
        sum(
            sample.value
            for sample in samples
            if sample.name == "plinth_http_requests_total" and sample.labels["route"] == ROUTE
        )
    )


def served_in_scrape(exposition: str) -> float:
    return counted(
        s for family in text_string_to_metric_families(exposition) for s in family.samples
    )


def served_by_worker(metrics_dir: Path, pid: int) -> float:
    """What the counter file of worker `pid` alone says it served."""
    files = [str(metrics_dir / f"counter_{pid}.db")]
    merged = MultiProcessCollector.merge(files)  # type: ignore[no-untyped-call]
    return counted(s for metric in merged for s in metric.samples)


def counts_once_settled(metrics_dir: Path, expected: dict[int, int]) -> dict[int, float]:
    """Each worker's count, read until it reaches what it was sent (a worker counts a request
    just after answering it) or 10 s pass; counts only grow, so a surplus shows too."""
    deadline = time.monotonic() + 10
    while True:
        counts = {pid: served_by_worker(metrics_dir, pid) for pid in expected}
        if all(counts[pid] >= n for pid, n in expected.items()) or time.monotonic() > deadline:
            return counts
        time.sleep(0.02)


def every_worker_answers(server: Gunicorn) -> bool:
    """Both workers have booted: each one accepted and served a connection."""
    try:
        pinned = connections_per_worker(server, per_worker=1, attempts=30)
    except (OSError, http.client.HTTPException):
        return False
    close_all(pinned)
    return len(pinned) == len(server.workers)


def wait_until_up(server: Gunicorn, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if "Connection in use" in log.read_text(errors="replace"):
                raise PortTaken(str(server.port))
            raise AssertionError(f"gunicorn exited with {process.returncode}")
        server.workers = child_pids(process.pid)
        if len(server.workers) == 2 and every_worker_answers(server):
            return
        time.sleep(0.2)
    raise AssertionError("gunicorn did not start in time")


def env_for(metrics_dir: Path, metrics_port: int | None) -> dict[str, str]:
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "DATABASE_AUTO_MIGRATE": "false",
        "REQUEST_LOG_ENABLED": "false",
        "RATE_LIMIT_ENABLED": "false",
        "METRICS_TOKEN": "scrape",
    }
    if metrics_port is not None:
        env["METRICS_PORT"] = str(metrics_port)
    return env


@pytest.fixture(params=["main-app", "metrics-port"])
def gunicorn(leg: Any, tmp_path: Path, request: Any) -> Iterator[Gunicorn]:
    """gunicorn with two uvicorn workers sharing a PROMETHEUS_MULTIPROC_DIR; metrics on the
    main app (token) or on METRICS_PORT served by the master."""
    config = tmp_path / "gunicorn_test.conf.py"
    config.write_text(GUNICORN_CONFIG)
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "stale_counter_1.db").write_bytes(b"from an earlier run")
    processes: list[subprocess.Popen[bytes]] = []

    def launch(port: int) -> Gunicorn:
        metrics_port = free_port() if request.param == "metrics-port" else None
        url = f"http://127.0.0.1:{metrics_port or port}/metrics"
        log = tmp_path / f"gunicorn-{port}.log"
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(config), "-w", "2",
            "-b", f"127.0.0.1:{port}", "main:create_app()",
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env_for(metrics_dir, metrics_port), stdout=out, stderr=out
            )
        processes.append(process)
        server = Gunicorn(port, url, metrics_dir)
        wait_until_up(server, process, log)
        return server

    try:
        yield on_free_port(launch)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.slow
def test_every_scrape_counts_the_requests_of_every_worker(gunicorn: Gunicorn) -> None:
    assert not (gunicorn.metrics_dir / "stale_counter_1.db").exists()  # cleared by on_starting
    pinned = connections_per_worker(gunicorn, per_worker=1)
    assert set(pinned) == gunicorn.workers, "each worker must hold a connection"
    first, second = sorted(pinned)
    expected = {first: 3, second: 5}
    try:
        for pid, count in expected.items():
            for _ in range(count):
                assert pinned[pid][0].request("GET", ROUTE)[0] == 401
    finally:
        close_all(pinned)
    assert counts_once_settled(gunicorn.metrics_dir, expected) == expected
    with httpx.Client() as client:
        token = {"Authorization": "Bearer scrape"}
        scrapes = [client.get(gunicorn.metrics_url, headers=token).text for _ in range(4)]
    for exposition in scrapes:
        assert served_in_scrape(exposition) == sum(expected.values())
