"""The OpenAPI document against the running app: a property-based run (schemathesis) in three
passes — anonymous, a regular user, an admin — on this leg, gated at zero findings.

Each pass generates requests for every documented operation (examples, boundary cases and
random ones, valid and invalid; deterministic: the same cases every run) against a real
uvicorn process on the leg's database (and Redis), and checks every answer: no 5xx, a
documented status code, the documented content type, body and headers. A finding is printed
with the request that reproduces it (`curl`), and the server's log is kept.
"""

import asyncio
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.users.authentication import issue_access_token
from app.users.models import User
from app.users.tokens import password_hasher
from tests.conformance.hooks import (
    ROOT_TOKEN_VARIABLE,
    SPARE_USERS_VARIABLE,
    TOKEN_VARIABLE,
    USER_ID_VARIABLE,
)
from tests.conftest import Leg
from tests.helpers import DEFAULT_PASSWORD
from tests.routers.test_ratelimit_processes import _free_port, _wait_until_live

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "st"
CONFIG = Path(__file__).parent / "schemathesis.toml"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)
MAX_EXAMPLES = os.environ.get("PLINTH_CONFORMANCE_MAX_EXAMPLES", "5")
WORKERS = os.environ.get("PLINTH_CONFORMANCE_WORKERS", "1")
FRESH_USERS = 100
LIMIT = "1000000/1m"
ROOT_TOKEN = "conformance-root-token-0123456789abcdef"
SERVER_ENV = {
    # Limits stay on (their headers are part of the document) but never trigger: a 429 is
    # documented, yet it would hide what the route itself answers.
    **{
        f"RATE_LIMIT_{name}": LIMIT
        for name in (
            "USER",
            "ANONYMOUS",
            "API_KEY",
            "LOGIN_ACCOUNT",
            "LOGIN_IP",
            "REGISTER_IP",
            "EMAIL_ADDRESS",
            "EMAIL_IP",
            "INVITATION_ADDRESS",
            "INVITATION_IP",
        )
    },
    "AUTH_ROOT_TOKEN": ROOT_TOKEN,
    "LOG_LEVEL": "WARNING",
}
HOOKS_ENV = {"SCHEMATHESIS_HOOKS": "tests.conformance.hooks", "PYTHONPATH": str(ROOT)}
PASSES = {
    "anonymous": None,
    "regular": ["regular"],
    "admin": ["regular", "admin", "superuser"],
}


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    log: Path


@pytest.fixture(scope="module")
def server(leg: Leg, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One uvicorn process on the leg's database (and Redis); its log is kept for findings."""
    log = tmp_path_factory.mktemp("conformance") / "server.log"
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **SERVER_ENV}, stdout=output, stderr=output
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_live(url, process)
        yield Server(url, process.pid, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def _users(database: Any, name: str, scopes: list[str], count: int) -> list[User]:
    hashed = await password_hasher().hash(DEFAULT_PASSWORD)  # once: hashing takes a while
    users = [
        User(email=f"{name}-{n}@example.com", hashed_password=hashed, scopes=scopes)
        for n in range(count)
    ]
    async with database.session() as session:
        session.add_all(users)
        await session.commit()
    return users


async def _credentials(
    server: Server, database: Any, name: str, scopes: list[str] | None, tmp: Path
) -> dict[str, str]:
    """The pass's environment for the hooks: a signed-in token, and fresh throwaway tokens."""
    if scopes is None:
        return {}
    main, *fresh = await _users(database, name, scopes, 1 + FRESH_USERS)
    async with httpx.AsyncClient(base_url=server.url) as http:
        form = {"username": main.email, "password": DEFAULT_PASSWORD, "scope": " ".join(scopes)}
        answer = await http.post("/api/v1/auth/login", data=form)
    assert answer.status_code == 200, answer.text
    spare = tmp / "spare-users"
    spare.write_text("\n".join(f"{u.id} {issue_access_token(u, scopes)[0]}" for u in fresh))
    return {
        TOKEN_VARIABLE: answer.json()["access_token"],
        USER_ID_VARIABLE: str(main.id),
        **({ROOT_TOKEN_VARIABLE: ROOT_TOKEN} if "superuser" in scopes else {}),
        SPARE_USERS_VARIABLE: str(spare),
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _findings(output: str) -> int | None:
    """The number of findings schemathesis reports (None: it did not get that far)."""
    if match := re.search(r"found (\d+) unique failures", output):
        return int(match.group(1))
    return 0 if re.search(r"\d+ generated, \d+ passed", output) else None


@pytest.mark.parametrize("caller", list(PASSES))
async def test_every_answer_is_documented(
    caller: str, server: Server, database: Any, tmp_path: Path
) -> None:
    env = await _credentials(server, database, f"conformance-{caller}", PASSES[caller], tmp_path)
    report = tmp_path / "events.ndjson"
    command = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"{server.url}/openapi.json"]
    command += ["--checks", CHECKS, "--generation-deterministic"]
    command += ["--max-examples", MAX_EXAMPLES, "--phases", "examples,coverage,fuzzing"]
    command += ["--generation-with-security-parameters", "false"]
    command += ["--no-color", "--report", "ndjson", "--report-ndjson-path", str(report)]
    command += ["--request-timeout", "30", "--workers", WORKERS]
    started = time.monotonic(), _children_cpu_seconds(), _cpu_seconds(server.pid)
    result = await asyncio.to_thread(
        subprocess.run,
        command,
        cwd=tmp_path,
        env={**os.environ, **env, **HOOKS_ENV},
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.monotonic() - started[0]
    client_cpu = _children_cpu_seconds() - started[1]
    server_cpu = _cpu_seconds(server.pid) - started[2]
    findings = _findings(result.stdout)
    print(
        f"conformance pass {caller}: {findings} findings, {wall:.1f} s "
        f"(CPU: schemathesis {client_cpu:.1f} s, server {server_cpu:.1f} s)"
    )
    summary = [line for line in result.stdout.splitlines() if "⚠️" in line or " generated, " in line]
    print("\n".join(summary))
    assert result.returncode == 0 and findings == 0, (
        f"{findings} findings in the {caller} pass (the server's log: {server.log})\n"
        + result.stdout[-30000:]
        + result.stderr[-5000:]
    )
