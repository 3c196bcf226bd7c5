"""Two-factor sign-in after single sign-on: the exchange asks for the code as the password
login does (against the real OpenID Provider of tests/routers/test_sso.py)."""

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update

from app.users.models import AuthSession
from core.db import utcnow
from tests.app.users.support import API, auth
from tests.app.users.two_factor_support import codes_around, confirm, verify
from tests.oidc_provider import OidcProviderServer
from tests.routers.test_sso import browser, exchange, landed, provider, sign_in, sso_app

__all__ = ["provider", "sso_app"]  # the fixtures, shared with test_sso.py


async def test_an_sso_sign_in_asks_for_the_code(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("tf-1", email="tf@example.com", email_verified=True)
    async with browser(sso_app) as http:
        first = (await exchange(http, landed(await sign_in(http, "tf-1"))["code"])).json()
        access = first["access_token"]
        # no password on this account: a sign-in of the last 10 minutes stands in for it
        started = await http.post(f"{API}/users/me/2fa/enrol", json={}, headers=auth(access))
        assert started.status_code == 201, started.text
        previous, current, _ = codes_around(started.json()["secret"])
        assert (await confirm(http, access, previous)).status_code == 200
        second = await exchange(http, landed(await sign_in(http, "tf-1"))["code"])
        assert second.status_code == 401
        assert second.json()["type"].endswith("/mfa-required")
        pair = await verify(http, second.json()["mfa_token"], current)
        assert pair.status_code == 200, pair.text
        me = await http.get(f"{API}/users/me", headers=auth(pair.json()["access_token"]))
        assert me.json()["email"] == "tf@example.com"


async def test_an_sso_only_account_enrols_from_a_fresh_sign_in_only(
    sso_app: FastAPI, provider: OidcProviderServer, database: Any
) -> None:
    provider.add_account("tf-2", email="old@example.com", email_verified=True)
    async with browser(sso_app) as http:
        pair = (await exchange(http, landed(await sign_in(http, "tf-2"))["code"])).json()
        async with database.session() as session:
            long_ago = utcnow() - timedelta(minutes=11)
            await session.execute(update(AuthSession).values(created_at=long_ago))
            await session.commit()
        headers = auth(pair["access_token"])
        refused = await http.post(f"{API}/users/me/2fa/enrol", json={}, headers=headers)
        assert refused.status_code == 403
