"""Sentry and OpenTelemetry: off by default; each on when configured, reporting to a local
collector. Each runs in its own process: both libraries patch classes for good."""

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: start the app, serve a few requests, report what is active.
APP_SCRIPT = """
import asyncio, json, sys
import httpx
from asgi_lifespan import LifespanManager
from main import create_app

async def crash():
    raise RuntimeError("boom from the tracing test")

async def run():
    app = create_app()
    app.add_api_route("/api/v1/test/crash", crash)
    report = {}
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": "Bearer very-secret-token", "Cookie": "session=s3cr3t"}
            report["me"] = (await client.get("/api/v1/users/me", headers=headers)).status_code
            report["crash"] = (await client.get("/api/v1/test/crash", headers=headers)).status_code
        import sentry_sdk
        report["sentry_active"] = sentry_sdk.get_client().is_active()
        if report["sentry_active"]:
            report["send_default_pii"] = sentry_sdk.get_client().options["send_default_pii"]
            sentry_sdk.flush(timeout=10)
        from opentelemetry import trace
        report["tracer_provider"] = type(trace.get_tracer_provider()).__module__
        if report["tracer_provider"].startswith("opentelemetry.sdk"):
            from opentelemetry.instrumentation.redis import RedisInstrumentor
            report["redis_traced"] = RedisInstrumentor().is_instrumented_by_opentelemetry
    print(json.dumps(report))

asyncio.run(run())
"""


# The extras made unimportable, as on an install without requirements-extras.txt.
WITHOUT_EXTRAS = """
import sys
BLOCKED = (
    "sentry_sdk", "opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation"
)

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.startswith(BLOCKED):
            raise ImportError(f"{name} is not installed")
        return None

sys.meta_path.insert(0, Blocker())
for name in list(sys.modules):
    if name.startswith(BLOCKED):
        del sys.modules[name]
"""


class Collector(ThreadingHTTPServer):
    """A local HTTP endpoint recording every POST (path, headers, decoded body)."""

    received: list[tuple[str, dict[str, str], bytes]]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]

            body = brotli.decompress(body)
        assert isinstance(self.server, Collector)
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector(("127.0.0.1", 0), _Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def run_app(**env: str) -> dict[str, Any]:
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith(("SENTRY_", "OTEL_"))
    }
    environment = {**inherited, "DATABASE_AUTO_MIGRATE": "false", **env}
    result = subprocess.run(
        [sys.executable, "-c", APP_SCRIPT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    report: dict[str, Any] = json.loads(result.stdout.decode().strip().splitlines()[-1])
    return report


@pytest.mark.slow
def test_both_are_off_by_default(leg: Any) -> None:
    report = run_app()
    assert report["sentry_active"] is False
    assert not report["tracer_provider"].startswith("opentelemetry.sdk")
    assert report["me"] == 401


@pytest.mark.slow
def test_sentry_reports_errors_without_personal_data(leg: Any, collector: Collector) -> None:
    port = collector.server_address[1]
    report = run_app(SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/42")
    assert report["sentry_active"] is True
    assert report["send_default_pii"] is False
    assert report["crash"] == 500
    envelopes = [body for path, _, body in collector.received if path.startswith("/api/42/")]
    assert any(b"boom from the tracing test" in body for body in envelopes)
    everything = b"".join(envelopes)
    assert b"very-secret-token" not in everything
    assert b"s3cr3t" not in everything


@pytest.mark.slow
def test_opentelemetry_exports_request_and_database_spans(leg: Any, collector: Collector) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    port = collector.server_address[1]
    report = run_app(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    assert report["tracer_provider"] == "opentelemetry.sdk.trace"
    exports = [body for path, _, body in collector.received if path == "/v1/traces"]
    assert exports, "no spans reached the OTLP endpoint"
    spans = []
    for body in exports:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans += [(scope_spans.scope.name, span.name) for span in scope_spans.spans]
    names = {name for _, name in spans}
    assert "GET /api/v1/users/me" in names
    assert any("sqlalchemy" in scope for scope, _ in spans)
    assert report["redis_traced"] is leg.is_services  # instrumented when Redis is configured


NO_EXTRAS_APP_SCRIPT = """
import asyncio, json
import httpx
from asgi_lifespan import LifespanManager
from main import create_app

async def run():
    app = create_app()
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            status = (await client.get("/api/v1/users/me")).status_code
    loaded = sorted(name for name in sys.modules if name.startswith(BLOCKED))
    print(json.dumps({"me": status, "extras_loaded": loaded}))

asyncio.run(run())
"""


@pytest.mark.slow
def test_the_app_runs_without_the_extras_installed(leg: Any) -> None:
    blocked = subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS + "import sentry_sdk"])
    assert blocked.returncode != 0  # the blocker works
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS + NO_EXTRAS_APP_SCRIPT],
        cwd=ROOT,
        env={**os.environ, "DATABASE_AUTO_MIGRATE": "false"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    report = json.loads(result.stdout.decode().splitlines()[-1])
    assert report == {"me": 401, "extras_loaded": []}
