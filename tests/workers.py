"""HTTP connections pinned to one worker of a pre-fork server (gunicorn), found through /proc.

A keep-alive connection is served by the worker that accepted it. Finding that worker (the
process holding the server side of the socket) lets a test say "holds across every worker" and
check it, rather than hope the kernel spread the requests. Linux only.
"""

import http.client
import json
import os
from pathlib import Path
from typing import Any, Protocol


class Pool(Protocol):
    """A running server: its port and the pids of its workers."""

    port: int
    workers: set[int]


def child_pids(parent: int) -> set[int]:
    """The pids of `parent`'s children."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.add(int(stat.parent.name))
    return children


def server_sockets(server_port: int) -> dict[int, tuple[int, int]]:
    """Server-side TCP sockets on `server_port`: client port → (inode, bytes not yet read)."""
    sockets = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local, remote, queues, inode = parts[1], parts[2], parts[4], parts[9]
        if int(local.split(":")[1], 16) == server_port and int(inode):
            unread = int(queues.split(":")[1], 16)
            sockets[int(remote.split(":")[1], 16)] = (int(inode), unread)
    return sockets


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
    """One keep-alive HTTP/1.1 connection from `source`; `worker` is the pid serving it."""

    def __init__(self, pool: Pool, source: str = "127.0.0.1") -> None:
        self.pool = pool
        self.http = http.client.HTTPConnection(
            "127.0.0.1", pool.port, timeout=30, source_address=(source, 0)
        )
        self.http.auto_open = 0  # never silently reconnect (possibly to the other worker)
        self.http.connect()
        self.status, _ = self.request("GET", "/health/live")
        self.worker = self._find_worker()

    @property
    def client_port(self) -> int:
        assert self.http.sock is not None
        return int(self.http.sock.getsockname()[1])

    def _find_worker(self) -> int | None:
        found = server_sockets(self.pool.port).get(self.client_port)
        return None if found is None else _holder(found[0], self.pool.workers)

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
    pool: Pool, per_worker: int, attempts: int = 60, source: str = "127.0.0.1"
) -> dict[int, list[Connection]]:
    """Open connections until each worker holds `per_worker` of them."""
    pinned: dict[int, list[Connection]] = {}
    for _ in range(attempts):
        connection = Connection(pool, source)
        if connection.worker is None or len(pinned.get(connection.worker, [])) >= per_worker:
            connection.close()
        else:
            pinned.setdefault(connection.worker, []).append(connection)
        if len(pinned) == len(pool.workers) and all(len(c) == per_worker for c in pinned.values()):
            break
    return pinned


def interleaved(pinned: dict[int, list[Connection]]) -> list[Connection]:
    """worker A, worker B, worker A, ... so consecutive requests change process."""
    columns = list(zip(*pinned.values(), strict=False))
    return [connection for column in columns for connection in column]


def close_all(pinned: dict[int, list[Connection]]) -> None:
    for group in pinned.values():
        for connection in group:
            connection.close()
