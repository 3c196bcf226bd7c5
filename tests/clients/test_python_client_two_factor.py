"""Two-factor sign-in end to end through the generated Python client (clients/python) against
a live server on this leg: enrol, confirm, the login's `mfa-required` problem, the second
step, a recovery code, turning it off."""

import pyotp
import pytest
from plinth_client import AuthenticatedClient, Client
from plinth_client.api.v1_auth import auth_login as login
from plinth_client.api.v1_auth import auth_verify as verify
from plinth_client.api.v1_users import two_factor_confirm as confirm
from plinth_client.api.v1_users import two_factor_disable as disable
from plinth_client.api.v1_users import two_factor_enrol as enrol
from plinth_client.api.v1_users import two_factor_read_status as read_status
from plinth_client.models import (
    BodyAuthLogin,
    CodeConfirm,
    Enrolment,
    EnrolmentStart,
    MfaVerify,
    NewRecoveryCodes,
    Problem,
    TokenResponse,
    TwoFactorStatus,
)

from tests.app.users.two_factor_support import codes_around
from tests.clients.test_python_client import PASSWORD, server, sign_up

__all__ = ["server"]  # the live server fixture, shared with test_python_client.py

pytestmark = pytest.mark.slow


async def second_step(base: str, email: str) -> str:
    """A login that the server answers with `mfa-required`: its `mfa_token`."""
    form = BodyAuthLogin(username=email, password=PASSWORD)
    answer = await login.asyncio_detailed(client=Client(base_url=base), body=form)
    assert answer.status_code == 401
    problem = answer.parsed
    assert isinstance(problem, Problem) and problem.type_.endswith("/mfa-required")
    assert problem["expires_in"] == 300
    return str(problem["mfa_token"])


async def test_two_factor_sign_in_through_the_generated_client(server: str) -> None:
    _, tokens = await sign_up(server, "tess@example.org")
    client = AuthenticatedClient(base_url=server, token=tokens.access_token)
    started = await enrol.asyncio(client=client, body=EnrolmentStart(current_password=PASSWORD))
    assert isinstance(started, Enrolment), started
    assert started.provisioning_uri.startswith("otpauth://totp/")
    assert pyotp.parse_uri(started.provisioning_uri).secret == started.secret
    previous, current, following = codes_around(started.secret)
    codes = await confirm.asyncio(client=client, body=CodeConfirm(code=previous))
    assert isinstance(codes, NewRecoveryCodes) and len(codes.recovery_codes) == 10

    anonymous = Client(base_url=server)
    mfa_token = await second_step(server, "tess@example.org")
    wrong = await verify.asyncio_detailed(
        client=anonymous, body=MfaVerify(mfa_token=mfa_token, code=previous)
    )
    assert wrong.status_code == 401 and isinstance(wrong.parsed, Problem)  # used already
    pair = await verify.asyncio(client=anonymous, body=MfaVerify(mfa_token=mfa_token, code=current))
    assert isinstance(pair, TokenResponse), pair

    mfa_token = await second_step(server, "tess@example.org")
    body = MfaVerify(mfa_token=mfa_token, code=codes.recovery_codes[0])
    by_recovery = await verify.asyncio(client=anonymous, body=body)
    assert isinstance(by_recovery, TokenResponse), by_recovery
    signed_in = AuthenticatedClient(base_url=server, token=by_recovery.access_token)
    status = await read_status.asyncio(client=signed_in)
    assert isinstance(status, TwoFactorStatus)
    assert status.enabled and status.recovery_codes_left == 9

    off = await disable.asyncio_detailed(client=signed_in, body=CodeConfirm(code=following))
    assert off.status_code == 204
    form = BodyAuthLogin(username="tess@example.org", password=PASSWORD)
    assert isinstance(await login.asyncio(client=anonymous, body=form), TokenResponse)
