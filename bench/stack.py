"""The servers under load: the app as production runs it, and the reference beside it.

The app starts through `compose/start` (gunicorn + uvicorn workers, settings from the
environment); the reference through `uvicorn --workers N`. Both bind a free loopback port,
write their logs to a file, and are stopped (SIGTERM, then SIGKILL) by `stop()`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def children(pid: int) -> list[int]:
    """Direct children of `pid` (from /proc)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    """Resident set size of `pid` in MiB (VmRSS from /proc/<pid>/status)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def http(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    """One request with the stdlib; returns (status, parsed JSON body or text)."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


class Server:
    """A server process on a free loopback port; a context manager."""

    name = "server"

    def __init__(
        self, workers: int, env: Mapping[str, str], log_dir: Path, label: str = ""
    ) -> None:
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.log_path = log_dir / f"{self.name}{label}-{workers}w.log"
        self._env = {**os.environ, **env}
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def health_path(self) -> str:
        raise NotImplementedError

    def start(self) -> Self:
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command(),
                cwd=PROJECT_ROOT,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready in {START_TIMEOUT}s:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                status, _ = http(self.base_url + self.health_path, timeout=1)
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (the master's children, or itself alone)."""
        if self._proc is None:
            return []
        kids = children(self._proc.pid)
        return kids if kids else [self._proc.pid]

    def worker_rss_mb(self) -> list[float]:
        return [mb for pid in self.worker_pids() if (mb := rss_mb(pid)) is not None]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class AppServer(Server):
    """The app as production runs it: `compose/start` (gunicorn, uvicorn workers)."""

    name = "app"
    health_path = "/health/live"

    def __init__(
        self, workers: int, env: Mapping[str, str], log_dir: Path, label: str = ""
    ) -> None:
        super().__init__(workers, env, log_dir, label)
        bindir = str(Path(sys.executable).parent)
        self._env.update(
            APP_HOST=HOST,
            APP_PORT=str(self.port),
            APP_WORKERS=str(workers),
            PATH=f"{bindir}{os.pathsep}{self._env.get('PATH', '')}",
            VIRTUAL_ENV=str(Path(bindir).parent),
        )

    def command(self) -> list[str]:
        return ["bash", str(PROJECT_ROOT / "compose" / "start")]

    @property
    def metrics_dir(self) -> str:
        """Where the workers write their Prometheus values (multiprocess mode)."""
        return self._env["PROMETHEUS_MULTIPROC_DIR"]


class LadderServer(Server):
    """One rung of bench/ladder.py (LADDER_RUNG) under uvicorn, like the reference."""

    health_path = "/health"

    def __init__(
        self, rung: str, workers: int, env: Mapping[str, str], log_dir: Path, label: str = ""
    ) -> None:
        self.rung = rung
        self.name = f"ladder-{rung}"
        super().__init__(workers, {**env, "LADDER_RUNG": rung}, log_dir, label)

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "bench.ladder:app",
            "--host", HOST, "--port", str(self.port), "--workers", str(self.workers),
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip


class ReferenceServer(Server):
    """bench/reference.py under uvicorn with the same worker count."""

    name = "reference"
    health_path = "/health"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "bench.reference:app",
            "--host", HOST, "--port", str(self.port), "--workers", str(self.workers),
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
