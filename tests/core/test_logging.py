"""Request ids on every response, error body and log line; JSON logs in production, text in
development; unsafe production settings refused."""

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from configs import SettingsError, load_settings
from core.platform.logging import JsonFormatter, RequestIdFilter, log_format, logging_config
from tests.conftest import TEST_SECRET, client_for
from tests.core.test_metrics import free_port

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the app's `plinth.*` loggers write, through the production JSON handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("plinth")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def add_failing_routes(app: FastAPI) -> None:
    async def crash() -> None:
        raise RuntimeError("boom")

    async def slow() -> None:
        await asyncio.Event().wait()  # never set: only the request timeout ends it

    app.add_api_route(f"{API}/test/crash", crash)
    app.add_api_route(f"{API}/test/slow", slow)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/health/live", 200), (f"{API}/users/me", 401), (f"{API}/nothing-here", 404)],
)
async def test_a_valid_request_id_is_kept_and_returned(
    client: httpx.AsyncClient, path: str, status: int
) -> None:
    response = await client.get(path, headers={"X-Request-ID": "trace-42.a:b_c"})
    assert response.status_code == status
    assert response.headers["x-request-id"] == "trace-42.a:b_c"
    if status >= 400:
        assert response.json()["request_id"] == "trace-42.a:b_c"


@pytest.mark.parametrize("bad", ["has spaces", "x" * 129, "<script>", ""])
async def test_an_invalid_request_id_is_replaced(client: httpx.AsyncClient, bad: str) -> None:
    response = await client.get(f"{API}/users/me", headers={"X-Request-ID": bad})
    generated = response.headers["x-request-id"]
    assert generated != bad
    assert len(generated) == 32
    assert response.json()["request_id"] == generated


async def test_every_response_has_its_own_request_id(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/health/live")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


async def test_log_lines_of_a_request_carry_its_id(make_app: Any, json_log: io.StringIO) -> None:
    """The crash runs under the default timeout, so a slow machine cannot turn it into a 504."""
    async with make_app() as app, client_for(app) as client:
        add_failing_routes(app)
        crashed = await client.get(f"{API}/test/crash", headers={"X-Request-ID": "crash-1"})
    async with make_app(REQUEST_TIMEOUT_SECONDS="0.2") as app, client_for(app) as client:
        add_failing_routes(app)
        timed_out = await client.get(f"{API}/test/slow", headers={"X-Request-ID": "slow-1"})
    assert crashed.status_code == 500
    assert crashed.json()["request_id"] == "crash-1"
    assert timed_out.status_code == 504
    records = {entry["request_id"]: entry for entry in lines(json_log)}
    assert records["crash-1"]["level"] == "ERROR"
    assert "RuntimeError: boom" in records["crash-1"]["error"]
    assert records["slow-1"]["logger"] == "plinth.limits"


def test_development_logs_are_text_and_production_logs_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "auto")
    monkeypatch.setenv("APP_ENV", "development")
    development = load_settings()
    monkeypatch.setenv("APP_ENV", "production")
    production = load_settings()
    assert log_format(development) == "text"
    assert log_format(production) == "json"
    config = logging_config(production)
    assert config["handlers"]["default"]["formatter"] == "json"
    for server_logger in ("uvicorn.access", "uvicorn.error", "gunicorn.error", "gunicorn.access"):
        assert server_logger in config["loggers"]


def test_wildcard_cors_with_credentials_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("CORS_ORIGINS", "*")
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "true")
    with pytest.raises(SettingsError, match="CORS"):
        load_settings()
    monkeypatch.setenv("APP_ENV", "development")
    assert load_settings().cors.origins == ["*"]


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


@pytest.mark.slow
def test_production_server_writes_json_lines_with_request_ids(leg: Any, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "APP_PORT": str(port),
        "APP_HOST": "127.0.0.1",
        "AUTH_SECRET_KEY": TEST_SECRET,
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "auto",
        "METRICS_TOKEN": "scrape",
        "DATABASE_AUTO_MIGRATE": "false",
    }
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "main.py"], cwd=ROOT, env=env, stdout=sink, stderr=sink
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/health/live", process)
            response = httpx.get(
                f"http://127.0.0.1:{port}{API}/users/me?token=do-not-log-me",
                headers={"X-Request-ID": "json-line-1"},
            )
            assert response.status_code == 401
        finally:
            process.terminate()
            process.wait(timeout=30)
    output = stderr.read_text()
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert entries, output
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    [access] = [e for e in entries if e.get("request_id") == "json-line-1"]
    assert access["logger"] == "plinth.access"
    assert access["method"] == "GET"
    assert access["duration_ms"] >= 0
    assert access["path"] == f"{API}/users/me"
    assert access["status"] == 401
    # the readiness polling above left no access lines
    assert not any(str(e.get("path", "")).startswith("/health/") for e in entries)
    assert "do-not-log-me" not in output
    assert TEST_SECRET not in output


@pytest.mark.slow
def test_credentials_in_urls_never_reach_the_log(leg: Any, tmp_path: Path) -> None:
    """uvicorn logs a WebSocket's path with its query string; the secrets in it are redacted
    (development text format here, the production JSON lines go through the same filter)."""
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    port = free_port()
    env = {
        **os.environ,
        "APP_PORT": str(port),
        "APP_HOST": "127.0.0.1",
        "LOG_LEVEL": "INFO",
        "DATABASE_AUTO_MIGRATE": "false",
    }
    secrets = ["access-secret-1", "ticket-secret-2", "code-secret-3", "state-secret-4"]
    query = f"access_token={secrets[0]}&ticket={secrets[1]}&code={secrets[2]}&state={secrets[3]}"
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "main.py"], cwd=ROOT, env=env, stdout=sink, stderr=sink
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/health/live", process)
            for path in (f"{API}/realtime/ws", "/no-such-socket"):
                try:
                    with connect(f"ws://127.0.0.1:{port}{path}?{query}", open_timeout=10) as ws:
                        ws.recv(timeout=10)
                except (InvalidStatus, WebSocketException, TimeoutError):
                    pass  # refused either way: what matters is what was logged
            httpx.get(f"http://127.0.0.1:{port}{API}/auth/sso/x/callback?{query}")
        finally:
            process.terminate()
            process.wait(timeout=30)
    output = stderr.read_text()
    assert "WebSocket" in output, output  # uvicorn did log the sockets
    assert "access_token=[redacted]" in output, output
    for secret in secrets:
        assert secret not in output, output
