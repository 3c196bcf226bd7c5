"""Two-factor sign-in with TOTP through HTTP: enrolment, the password flow's second step,
replay, recovery codes, throttling, turning it off, the admin-scope requirement, API keys."""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from app.two_factor.models import RecoveryCode, SignInChallenge, TotpCredential
from app.users.models import EmailToken, Purpose
from app.users.tokens import secret_hash
from core.db import utcnow
from tests.app.users.support import API, auth, login, me, refresh, tokens
from tests.app.users.two_factor_support import challenge, codes_around, confirm, enable, verify
from tests.conftest import client_for
from tests.helpers import DEFAULT_PASSWORD, PATIENT, actor, create_user

TWO_FA = f"{API}/users/me/2fa"


async def signed_in(client: httpx.AsyncClient, database: Any, **user: Any) -> str:
    await create_user(database, **user)
    return str((await tokens(client, user.get("email", "alice@example.com")))["access_token"])


# -- signing in ---------------------------------------------------------------------------------


async def test_a_password_login_needs_a_code_then_opens_a_session(
    client: httpx.AsyncClient, database: Any
) -> None:
    app = await enable(client, await signed_in(client, database))
    first_step = await login(client)
    assert first_step.status_code == 401
    assert first_step.headers["content-type"] == "application/problem+json"
    problem = first_step.json()
    assert problem["type"].endswith("/mfa-required") and problem["expires_in"] == 300
    assert "access_token" not in problem
    second_step = await verify(client, problem["mfa_token"], app.next_code())
    assert second_step.status_code == 200, second_step.text
    pair = second_step.json()
    assert (await me(client, pair["access_token"])).status_code == 200
    assert (await refresh(client, pair["refresh_token"])).status_code == 200
    again = await verify(client, problem["mfa_token"], app.next_code())
    assert again.status_code == 401  # a challenge is answered once


async def test_a_code_is_accepted_once(client: httpx.AsyncClient, database: Any) -> None:
    access = await signed_in(client, database)
    started = await client.post(
        f"{TWO_FA}/enrol", json={"current_password": DEFAULT_PASSWORD}, headers=auth(access)
    )
    previous, current, following = codes_around(started.json()["secret"])
    assert (await confirm(client, access, previous)).status_code == 200
    assert (await verify(client, await challenge(client), previous)).status_code == 401
    assert (await verify(client, await challenge(client), current)).status_code == 200
    replayed = await verify(client, await challenge(client), current)
    assert replayed.status_code == 401
    assert replayed.json()["detail"] == "The code is wrong, expired or already used."
    # the step before the last one used is refused too, however valid its time still is
    assert (await verify(client, await challenge(client), previous)).status_code == 401
    assert (await verify(client, await challenge(client), following)).status_code == 200


async def test_two_answers_with_one_code_open_one_session(
    client: httpx.AsyncClient, database: Any
) -> None:
    app = await enable(client, await signed_in(client, database))
    first, second = await challenge(client), await challenge(client)
    code = app.next_code()
    answers = await asyncio.gather(verify(client, first, code), verify(client, second, code))
    assert sorted(r.status_code for r in answers) == [200, 401]


async def test_a_recovery_code_signs_in_once_however_it_is_typed(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    app = await enable(client, access)
    assert len(app.recovery_codes) == 10 and len(set(app.recovery_codes)) == 10
    code = app.recovery_codes[0]
    typed = " " + code.upper().replace("-", " ") + " "
    assert (await verify(client, await challenge(client), typed)).status_code == 200
    assert (await verify(client, await challenge(client), code)).status_code == 401
    status = (await client.get(TWO_FA, headers=auth(access))).json()
    assert status == {
        "enabled": True,
        "pending": False,
        "required": False,
        "recovery_codes_left": 9,
    }
    async with database.session() as session:
        stored = (await session.scalars(select(RecoveryCode.code_hash))).all()
    assert not set(stored) & {code.replace("-", "") for code in app.recovery_codes}


async def test_wrong_codes_are_limited_per_account(
    make_app: Callable[..., Any], database: Any
) -> None:
    await create_user(database)
    env = {"RATE_LIMIT_TOTP_ACCOUNT": "3/1h", **PATIENT}
    async with make_app(**env) as running, client_for(running) as client:
        app = await enable(client, str((await tokens(client))["access_token"]))
        mfa_token = await challenge(client)
        wrong = [await verify(client, mfa_token, "000000") for _ in range(3)]
        right_but_late = await verify(client, mfa_token, app.next_code())
    assert [r.status_code for r in wrong] == [401, 401, 401]
    assert right_but_late.status_code == 429
    assert int(right_but_late.headers["Retry-After"]) > 60


async def test_a_challenge_ends_with_logout_all_and_a_password_reset_keeps_the_factor(
    client: httpx.AsyncClient, database: Any
) -> None:
    user = await create_user(database)
    access = str((await tokens(client))["access_token"])
    app = await enable(client, access)
    pending = await challenge(client)
    assert (await client.post(f"{API}/auth/logout-all", headers=auth(access))).status_code == 204
    assert (await verify(client, pending, app.next_code())).status_code == 401
    async with database.session() as session:
        session.add(
            EmailToken(
                user_id=user.id,
                purpose=Purpose.RESET,
                token_hash=secret_hash("reset-link-token"),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        await session.commit()
    before_reset = await challenge(client)
    body = {"token": "reset-link-token", "password": "a new password"}
    reset = await client.post(f"{API}/auth/password-reset/confirm", json=body)
    assert reset.status_code == 204, reset.text
    assert (await verify(client, before_reset, app.next_code())).status_code == 401
    after = await login(client, password="a new password")
    assert after.status_code == 401 and after.json()["type"].endswith("/mfa-required")


async def test_a_challenge_expires(client: httpx.AsyncClient, database: Any) -> None:
    app = await enable(client, await signed_in(client, database))
    mfa_token = await challenge(client)
    async with database.session() as session:
        await session.execute(update(SignInChallenge).values(expires_at=utcnow()))
        await session.commit()
    assert (await verify(client, mfa_token, app.next_code())).status_code == 401
    assert (await verify(client, await challenge(client), app.next_code())).status_code == 200


# -- enrolment and turning it off -----------------------------------------------------------------


async def test_enrolment_needs_the_password_and_shows_the_secret_once(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    for body in ({}, {"current_password": "not my password"}):
        refused = await client.post(f"{TWO_FA}/enrol", json=body, headers=auth(access))
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["body", "current_password"]
    body = {"current_password": DEFAULT_PASSWORD}
    started = await client.post(f"{TWO_FA}/enrol", json=body, headers=auth(access))
    assert started.status_code == 201 and started.headers["cache-control"] == "no-store"
    secret = started.json()["secret"]
    uri = started.json()["provisioning_uri"]
    assert uri.startswith("otpauth://totp/Plinth:alice%40example.com?secret=" + secret)
    status = await client.get(TWO_FA, headers=auth(access))
    assert secret not in status.text and status.json()["pending"] is True
    assert (await login(client)).status_code == 200  # not on until confirmed
    async with database.session() as session:
        sealed = (await session.scalars(select(TotpCredential.sealed_secret))).one()
    assert secret not in sealed and secret.lower() not in sealed.lower()


async def test_confirmation_needs_a_right_code_and_enrolment_happens_once(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    nothing_pending = await confirm(client, access, "123456")
    assert nothing_pending.status_code == 409
    body = {"current_password": DEFAULT_PASSWORD}
    await client.post(f"{TWO_FA}/enrol", json=body, headers=auth(access))
    wrong = await confirm(client, access, "000000")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"] == ["body", "code"]
    assert (await login(client)).status_code == 200
    await client.post(f"{TWO_FA}/enrol", json=body, headers=auth(access))  # a new secret
    await enable(client, access)
    again = await client.post(f"{TWO_FA}/enrol", json=body, headers=auth(access))
    assert again.status_code == 409


async def test_turning_it_off_needs_a_fresh_code(client: httpx.AsyncClient, database: Any) -> None:
    access = await signed_in(client, database)
    started = await client.post(
        f"{TWO_FA}/enrol", json={"current_password": DEFAULT_PASSWORD}, headers=auth(access)
    )
    previous, current, _ = codes_around(started.json()["secret"])
    await confirm(client, access, previous)
    for code in ("000000", previous, "aaaa-bbbb-cccc-dddd"):
        refused = await client.post(f"{TWO_FA}/disable", json={"code": code}, headers=auth(access))
        assert refused.status_code == 422, code
    done = await client.post(f"{TWO_FA}/disable", json={"code": current}, headers=auth(access))
    assert done.status_code == 204
    assert (await login(client)).status_code == 200
    status = (await client.get(TWO_FA, headers=auth(access))).json()
    assert status["enabled"] is False and status["recovery_codes_left"] == 0
    again = await client.post(f"{TWO_FA}/disable", json={"code": current}, headers=auth(access))
    assert again.status_code == 409


async def test_new_recovery_codes_replace_the_old_ones(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    app = await enable(client, access)
    body = {"code": app.next_code()}
    renewed = await client.post(f"{TWO_FA}/recovery-codes", json=body, headers=auth(access))
    assert renewed.status_code == 200
    new_codes = renewed.json()["recovery_codes"]
    assert not set(new_codes) & set(app.recovery_codes)
    assert (await verify(client, await challenge(client), app.recovery_codes[1])).status_code == 401
    assert (await verify(client, await challenge(client), new_codes[0])).status_code == 200


async def test_api_keys_are_unaffected_and_cannot_manage_the_factor(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    body = {"name": "ci", "scopes": ["regular"]}
    key = (await client.post(f"{API}/users/me/api-keys", json=body, headers=auth(access))).json()
    await enable(client, access)
    assert (await me(client, key["key"])).status_code == 200
    assert (await client.get(TWO_FA, headers=auth(key["key"]))).status_code == 403
    refused = await client.post(
        f"{TWO_FA}/disable", json={"code": "123456"}, headers=auth(key["key"])
    )
    assert refused.status_code == 403


# -- admins -------------------------------------------------------------------------------------


async def test_required_scopes_wait_for_enrolment(
    make_app: Callable[..., Any], database: Any
) -> None:
    await create_user(database, "root@example.com", scopes=["superuser"])
    async with (
        make_app(AUTH_TOTP_REQUIRED_SCOPES="admin") as running,
        client_for(running) as client,
    ):
        plain = await tokens(client, "root@example.com")
        assert plain["scope"] == "regular"  # admin and superuser wait for the factor
        access = plain["access_token"]
        assert (await client.get(f"{API}/users", headers=auth(access))).status_code == 403
        assert (await client.get(TWO_FA, headers=auth(access))).json()["required"] is True
        app = await enable(client, access)  # from the regular session
        mfa_token = await challenge(client, "root@example.com")
        pair = (await verify(client, mfa_token, app.next_code())).json()
        assert pair["scope"] == "admin regular superuser"
        users = await client.get(f"{API}/users", headers=auth(pair["access_token"]))
        assert users.status_code == 200
        body = {"code": app.next_code()}
        off = await client.post(f"{TWO_FA}/disable", json=body, headers=auth(access))
        assert off.status_code == 204
        renewed = await refresh(client, pair["refresh_token"])
        assert renewed.json()["scope"] == "regular"  # the factor is off: those scopes go


async def test_an_admin_resets_a_lost_factor_but_not_a_superusers(
    client: httpx.AsyncClient, database: Any
) -> None:
    access = await signed_in(client, database)
    await enable(client, access)
    alice = (await me(client, access)).json()
    admin = await actor(database, "ada", scopes=("admin",))
    boss = await actor(database, "boss", scopes=("superuser",))
    reset = await client.delete(f"{API}/users/{alice['id']}/2fa", headers=admin.headers)
    assert reset.status_code == 204
    assert (await login(client)).status_code == 200
    refused = await client.delete(f"{API}/users/{boss.id}/2fa", headers=admin.headers)
    assert refused.status_code == 403
    body = {"name": "ops", "scopes": ["admin"]}
    key = (await client.post(f"{API}/users/me/api-keys", json=body, headers=admin.headers)).json()
    by_key = await client.delete(f"{API}/users/{alice['id']}/2fa", headers=auth(key["key"]))
    assert by_key.status_code == 403  # resetting a factor needs a person
