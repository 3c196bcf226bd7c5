"""A real OpenID Provider on loopback for the SSO tests: tests/oidc/provider.mjs (panva's
oidc-provider under Node), installed by `make tests/oidc/node_modules` (npm ci).

    with start_oidc_provider([{"client_id": "plinth", ...}]) as provider:
        provider.add_account("alice", email="alice@example.com", email_verified=True)
        provider.issuer  # http://127.0.0.1:PORT
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from tests.servers import ServerStartError, ServerUnavailable

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc"
START_TIMEOUT = 30.0
NODE_HINT = (
    "Node.js 20+ and the provider's packages are needed: install node, then run "
    "`npm ci --prefix tests/oidc` (make test does it)."
)


class OidcProviderServer:
    """The provider process, and its test-only controls (accounts, ID-token quirks, key
    rotation)."""

    def __init__(self, proc: subprocess.Popen[bytes], issuer: str, log: Path) -> None:
        self.proc, self.issuer, self.log = proc, issuer, log

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _control(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(  # noqa: S310 - our own loopback provider
            f"{self.issuer}/_test/{path}",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 204, response.read()

    def add_account(self, sub: str, *, email: str, email_verified: bool, name: str = "") -> None:
        """An account that signs in with `login_hint=sub`."""
        claims = {"sub": sub, "email": email, "email_verified": email_verified, "name": name}
        self._control("accounts", claims)

    def next_id_token(self, quirk: str) -> None:
        """Alter the next ID token: expired, wrong_aud, wrong_nonce or unknown_key."""
        self._control("next", {"quirk": quirk})

    def rotate_keys(self) -> None:
        """Publish a new signing key and sign every later ID token with it."""
        self._control("rotate", {})

    def stop(self) -> None:
        """Terminate the provider (idempotent)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _first_line(proc: subprocess.Popen[bytes], log: Path) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
    line = proc.stdout.readline() if ready else b""
    if not line:
        proc.kill()
        raise ServerStartError(f"the OIDC provider did not start:\n{log.read_text()[-2000:]}")
    return line.decode()


def start_oidc_provider(clients: list[dict[str, Any]]) -> OidcProviderServer:
    """Start the provider with these client registrations; ServerUnavailable without Node."""
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise ServerUnavailable(NODE_HINT)
    log = Path(tempfile.mkstemp(prefix="plinth-oidc-", suffix=".log")[1])
    env = {**os.environ, "OIDC_CLIENTS": json.dumps(clients), "NODE_ENV": "test"}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [node, str(PROVIDER_DIR / "provider.mjs")],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            start_new_session=True,
        )
    try:
        issuer = json.loads(_first_line(proc, log))["issuer"]
    except BaseException:
        with contextlib.suppress(OSError):
            proc.kill()
        raise
    return OidcProviderServer(proc, issuer, log)
