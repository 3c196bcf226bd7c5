"""Real worker processes sharing Redis: one exact limit and one cache across them (services leg)."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Leg
from tests.helpers import bearer, create_user

ROOT = Path(__file__).resolve().parents[2]
ME = "/api/v1/users/me"
LIMIT = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_live(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@pytest.fixture(scope="module")
def two_workers(leg: Leg) -> Iterator[list[str]]:
    """Two uvicorn processes serving the app on the services leg's PostgreSQL and Redis."""
    if not leg.is_services:
        pytest.skip("the embedded default runs one process")
    env = {
        **os.environ,
        "RATE_LIMIT_ANONYMOUS": f"{LIMIT}/1m",
        "REDIS_TIMEOUT_SECONDS": "5",
        "RATE_LIMIT_BACKEND_TIMEOUT_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(2):
            port = _free_port()
            command = [sys.executable, "-m", "uvicorn", "main:create_app", "--factory"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers"]
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            _wait_until_live(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


async def test_two_processes_hold_one_exact_limit_under_three_times_overload(
    two_workers: list[str],
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        requests = [
            client.get(f"{two_workers[n % 2]}{ME}", headers={"X-Forwarded-For": f"10.9.9.{n}"})
            for n in range(3 * LIMIT)
        ]
        answers = await asyncio.gather(*requests)
    assert Counter(answer.status_code for answer in answers) == {401: LIMIT, 429: 2 * LIMIT}


async def test_a_write_in_one_process_invalidates_the_cache_of_the_other(
    two_workers: list[str], database: Any
) -> None:
    admin = await create_user(database, "admin@example.com", scopes=["admin"])
    bob = await create_user(database, "bob@example.com", full_name="Bob")
    path = f"/api/v1/users/{bob.id}"
    reader, writer = two_workers
    async with httpx.AsyncClient(timeout=30, headers=bearer(admin)) as client:
        await client.get(f"{reader}{path}")
        cached = await client.get(f"{reader}{path}")
        written = await client.patch(f"{writer}{path}", json={"full_name": "Robert"})
        fresh = await client.get(f"{reader}{path}")
    assert cached.headers["X-Cache"] == "HIT"
    assert written.status_code == 200
    assert fresh.headers["X-Cache"] == "MISS"
    assert fresh.json()["full_name"] == "Robert"
