"""/metrics under gunicorn with two workers: every scrape counts the requests of both."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.core.test_metrics import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = """
from core.platform.metrics import gunicorn_child_exit as child_exit
from core.platform.metrics import gunicorn_on_starting as on_starting
from core.platform.metrics import gunicorn_when_ready as when_ready

worker_class = "uvicorn_worker.UvicornWorker"
"""


def requests_served(exposition: str, route: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "plinth_http_requests_total" and sample.labels["route"] == route
    )


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("gunicorn did not start in time")


@pytest.fixture(params=["main-app", "metrics-port"])
def gunicorn(leg: Any, tmp_path: Path, request: Any) -> Iterator[tuple[str, str, Path]]:
    """gunicorn with two uvicorn workers sharing a PROMETHEUS_MULTIPROC_DIR; metrics on the
    main app (token) or on METRICS_PORT served by the master."""
    port = free_port()
    metrics_port = free_port()
    config = tmp_path / "gunicorn_test.conf.py"
    config.write_text(GUNICORN_CONFIG)
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "stale_counter_1.db").write_bytes(b"from an earlier run")
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "DATABASE_AUTO_MIGRATE": "false",
        "REQUEST_LOG_ENABLED": "false",
        "RATE_LIMIT_ENABLED": "false",
        "METRICS_TOKEN": "scrape",
    }
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    if request.param == "metrics-port":
        env["METRICS_PORT"] = str(metrics_port)
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(config), "-w", "2",
        "-b", f"127.0.0.1:{port}", "main:create_app()",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/health/live", process)
        yield base, metrics_url, metrics_dir
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_every_scrape_counts_the_requests_of_every_worker(
    gunicorn: tuple[str, str, Path],
) -> None:
    base, metrics_url, metrics_dir = gunicorn
    assert not (metrics_dir / "stale_counter_1.db").exists()  # cleared by on_starting
    # New connections each time, so the kernel spreads them over both workers.
    served = 0
    for _ in range(30):
        with httpx.Client(base_url=base) as fresh:
            assert fresh.get("/api/v1/users/me").status_code == 401
        served += 1
    with httpx.Client() as client:
        token = {"Authorization": "Bearer scrape"}
        scrapes = [client.get(metrics_url, headers=token).text for _ in range(4)]
    pids = {path.name.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}
    assert len(pids) >= 2, "both workers should have written counters"
    for exposition in scrapes:
        assert requests_served(exposition, "/api/v1/users/me") == served
