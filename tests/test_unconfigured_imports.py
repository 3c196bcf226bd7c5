"""What a worker imports when an optional feature is not configured: nothing of it.

SSO's Authlib, the job queue's taskiq (with the aiohttp it imports), Sentry and OpenTelemetry's
SDK cost a worker tens of MB of memory (bench/README.md); each is imported when its
feature is configured and first used. Checked in a fresh interpreter, so modules that other
tests imported do not count.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Top-level modules, and the OpenTelemetry parts our tracing imports (FastAPI itself imports
# the OpenTelemetry API, and redis its metrics SDK, whenever they are installed).
OPTIONAL = [
    "authlib",
    "joserfc",
    "httpx2",
    "taskiq",
    "taskiq_redis",
    "aiohttp",
    "aiosmtplib",
    "sentry_sdk",
    "opentelemetry.sdk.trace",
    "opentelemetry.exporter",
    "opentelemetry.instrumentation",
]

PROBE = """
import json, sys
import main
main.create_app()
print(json.dumps(sorted(name for name in sys.modules if name in set(sys.argv[1:]))))
"""


@pytest.mark.parametrize("redis_url", ["", "redis://127.0.0.1:1/0"], ids=["embedded", "redis"])
def test_the_app_factory_imports_no_unconfigured_feature(redis_url: str, tmp_path: Path) -> None:
    """Production settings without SSO_PROVIDERS, SENTRY_DSN or OTEL_EXPORTER_OTLP_ENDPOINT;
    with REDIS_URL, jobs go to Redis but no job has been sent (nothing connects here)."""
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env |= {
        "ENV_FILE": "",
        "APP_ENV": "production",
        "APP_DATA_DIR": str(tmp_path),
        "AUTH_SECRET_KEY": "Zr8-kQ2mV7xW4pL1nT9sH6dJ3fB0cY5gE_aU8iO2qR7w",
        "DATABASE_URL": "postgresql+asyncpg://plinth:plinth@127.0.0.1:1/plinth",
        "DATABASE_AUTO_MIGRATE": "false",
        "REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *OPTIONAL],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
