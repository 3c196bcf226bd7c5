"""`make dev`: the app served by `python main.py --reload`, which starts a fresh server process
when a source file changes."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.core.test_logging import ROOT, wait_for
from tests.ports import free_port

STARTED = re.compile(r"Started server process \[(\d+)\]")


def server_pids(log: Path) -> list[str]:
    return STARTED.findall(log.read_text(errors="replace"))


@pytest.mark.slow
def test_dev_server_restarts_when_a_source_file_changes(leg: Any, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "APP_PORT": str(port), "APP_HOST": "127.0.0.1", "LOG_LEVEL": "INFO"}
    log = tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}/health/live"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "main.py", "--reload"], cwd=ROOT, env=env, stdout=sink, stderr=sink
        )
        try:
            wait_for(url, process)
            [first] = server_pids(log)
            os.utime(ROOT / "routers" / "root.py")  # saved again, unchanged
            deadline = time.monotonic() + 30
            while len(server_pids(log)) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            pids = server_pids(log)
            assert len(pids) == 2 and pids[1] != first, log.read_text()
            wait_for(url, process)
            assert httpx.get(url).status_code == 200
        finally:
            process.terminate()
            process.wait(timeout=30)
