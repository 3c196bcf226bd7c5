"""Real app processes for the event stream, and a real WebSocket client (`websockets`).

Services leg: two uvicorn processes sharing the test PostgreSQL and Redis — a socket on one
receives what is written through the other. Embedded leg: one process on the SQLite file (the
same tests; "A" and "B" are the same process).
"""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from core.platform.realtime.server import uvicorn_websocket_flags
from tests.conftest import Leg
from tests.helpers import DEFAULT_PASSWORD
from tests.routers.test_ratelimit_processes import _free_port, _wait_until_live

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"
WAIT = 10.0  # upper bound of every wait for a frame; frames normally arrive in milliseconds
STREAM_ENV = {
    "REALTIME_REVALIDATE_SECONDS": "0.25",
    "REALTIME_MAX_CONNECTIONS_PER_USER": "3",
    "REALTIME_HEARTBEAT_SECONDS": "1",
    "RATE_LIMIT_ENABLED": "false",
    # A server's request-log writer flushes once more as it stops, after the module's last
    # cleanup: its rows would leak into the next module's tests. (The SQLite race that flush
    # once exposed is tested on its own: tests/core/test_sqlite_writers.py.)
    "REQUEST_LOG_ENABLED": "false",
    "LOG_LEVEL": "WARNING",
}


def start_app(extra: dict[str, str] | None = None) -> tuple[str, subprocess.Popen[bytes]]:
    """One uvicorn process on this leg's database (and Redis); returns its URL."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers"]
    command += uvicorn_websocket_flags()  # as production serves sockets
    env = {**os.environ, **STREAM_ENV, **(extra or {})}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return f"http://127.0.0.1:{port}", process


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def servers(leg: Leg) -> Iterator[list[str]]:
    """Two app processes on the services leg, one on the embedded leg."""
    started = [start_app() for _ in range(2 if leg.is_services else 1)]
    try:
        for url, process in started:
            _wait_until_live(url, process)
        yield [url for url, _ in started]
    finally:
        stop([process for _, process in started])


@dataclass
class Client:
    """A signed-in user of one process: HTTP calls and event sockets."""

    base: str
    http: httpx.AsyncClient
    token: str
    id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(
            method, self.base + API + path, headers=self.headers, **kwargs
        )

    async def ticket(self, resume: dict[str, int] | None = None) -> dict[str, Any]:
        answer = await self.call("POST", "/realtime/tickets", json={"resume": resume or {}})
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def connect(self, resume: dict[str, int] | None = None) -> "Stream":
        """A socket that has received `ready` (replayed events, if any, come before it)."""
        ticket = await self.ticket(resume)
        stream = await open_stream(self.base, ticket)
        stream.replayed = await stream.until_ready()
        return stream


async def open_stream(base: str, ticket: dict[str, Any]) -> "Stream":
    url = base.replace("http://", "ws://") + ticket["url"]
    protocols = [ticket["subprotocol"], f"ticket.{ticket['ticket']}"]
    socket = await websockets.connect(url, subprotocols=protocols)
    return Stream(socket)


class Stream:
    """A socket's frames, heartbeats skipped."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.replayed: list[dict[str, Any]] = []

    async def next(self) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), WAIT))
            if frame["type"] != "heartbeat":
                return frame

    async def send(self, **fields: Any) -> None:
        await self.socket.send(json.dumps(fields))

    async def until_ready(self) -> list[dict[str, Any]]:
        before = []
        while (frame := await self.next())["type"] != "ready":
            before.append(frame)
        return before

    async def closed_with(self) -> int | None:
        """Read until the server closes; the close code it sent."""
        try:
            while True:
                await asyncio.wait_for(self.socket.recv(), WAIT)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    async def close(self) -> None:
        await self.socket.close()


async def sign_in(base: str, http: httpx.AsyncClient, email: str) -> Client:
    form = {"username": email, "password": DEFAULT_PASSWORD}
    answer = await http.post(f"{base}{API}/auth/login", data=form)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    me = await http.get(f"{base}{API}/users/me", headers={"Authorization": f"Bearer {token}"})
    return Client(base, http, token, me.json()["id"])


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
