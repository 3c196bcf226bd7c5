"""Shortcuts for the two-factor tests: an authenticator app in a few lines, and turning the
factor on through the API."""

import time
from dataclasses import dataclass, field

import httpx
import pyotp

from tests.app.users.support import API, auth, login
from tests.helpers import DEFAULT_PASSWORD

STEP = 30


@dataclass
class Authenticator:
    """The app on the user's phone: its secret, the codes of the next time steps not used yet
    (the server accepts the previous, current and next step, each once), the recovery codes."""

    secret: str
    fresh: list[str] = field(default_factory=list)
    recovery_codes: list[str] = field(default_factory=list)

    def next_code(self) -> str:
        """A code of a step later than any used so far."""
        return self.fresh.pop(0)


def codes_around(secret: str) -> list[str]:
    """The codes of the previous, current and next time step, in that order."""
    totp, now = pyotp.TOTP(secret), time.time()
    return [totp.at(now + offset * STEP) for offset in (-1, 0, 1)]


async def enable(client: httpx.AsyncClient, access: str) -> Authenticator:
    """Enrol and confirm with the previous step's code: the current and next steps' codes are
    left for the test (both stay valid for at least 30 s)."""
    body = {"current_password": DEFAULT_PASSWORD}
    started = await client.post(f"{API}/users/me/2fa/enrol", json=body, headers=auth(access))
    assert started.status_code == 201, started.text
    app = Authenticator(started.json()["secret"])
    first, *app.fresh = codes_around(app.secret)
    confirmed = await confirm(client, access, first)
    assert confirmed.status_code == 200, confirmed.text
    app.recovery_codes = confirmed.json()["recovery_codes"]
    return app


async def confirm(client: httpx.AsyncClient, access: str, code: str) -> httpx.Response:
    return await client.post(
        f"{API}/users/me/2fa/confirm", json={"code": code}, headers=auth(access)
    )


async def challenge(client: httpx.AsyncClient, email: str = "alice@example.com") -> str:
    """A password login of an account with the factor: its `mfa_token`."""
    response = await login(client, email)
    assert response.status_code == 401, response.text
    assert response.json()["type"].endswith("/mfa-required")
    return str(response.json()["mfa_token"])


async def verify(client: httpx.AsyncClient, mfa_token: str, code: str) -> httpx.Response:
    body = {"mfa_token": mfa_token, "code": code}
    return await client.post(f"{API}/auth/2fa/verify", json=body)
