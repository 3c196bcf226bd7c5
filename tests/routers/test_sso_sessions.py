"""An SSO sign-in's session ends as a password login's does (docs/auth.md, "What ends each
credential"), against the real provider on loopback."""

from fastapi import FastAPI

from tests.app.users.support import API, auth, refresh
from tests.oidc_provider import OidcProviderServer
from tests.routers.test_sso import browser, exchange, landed, provider, sign_in, sso_app

__all__ = ["provider", "sso_app"]  # the fixtures of tests/routers/test_sso.py, used here


async def test_an_sso_session_ends_with_logout_all_and_a_new_sign_in_works(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("sso-end", email="end@example.com", email_verified=True)
    async with browser(sso_app) as http:
        pair = (await exchange(http, landed(await sign_in(http, "sso-end"))["code"])).json()
        other = (await exchange(http, landed(await sign_in(http, "sso-end"))["code"])).json()
        ended = await http.post(f"{API}/auth/logout-all", headers=auth(other["access_token"]))
        assert ended.status_code == 204

        for old in (pair, other):
            gone = await http.get(f"{API}/users/me", headers=auth(old["access_token"]))
            assert gone.status_code == 401
            assert (await refresh(http, old["refresh_token"])).status_code == 401
        again = (await exchange(http, landed(await sign_in(http, "sso-end"))["code"])).json()
        me = await http.get(f"{API}/users/me", headers=auth(again["access_token"]))
        assert me.status_code == 200, me.text


async def test_an_sso_session_ends_alone_with_logout(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("sso-one", email="one@example.com", email_verified=True)
    async with browser(sso_app) as http:
        pair = (await exchange(http, landed(await sign_in(http, "sso-one"))["code"])).json()
        other = (await exchange(http, landed(await sign_in(http, "sso-one"))["code"])).json()
        out = await http.post(f"{API}/auth/logout", headers=auth(pair["access_token"]))
        assert out.status_code == 204
        gone = await http.get(f"{API}/users/me", headers=auth(pair["access_token"]))
        assert gone.status_code == 401
        assert (await refresh(http, pair["refresh_token"])).status_code == 401
        kept = await http.get(f"{API}/users/me", headers=auth(other["access_token"]))
        assert kept.status_code == 200
