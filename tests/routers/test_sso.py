"""Single sign-on against a real OpenID Provider on loopback (tests/oidc_provider.py).

The HTTP client follows every redirect: our authorize endpoint → the provider → its headless
interaction → our callback → the frontend (a tiny ASGI app standing in for the SPA).
"""

import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from app.users.models import User
from tests.app.users.support import API, auth, tokens
from tests.conftest import Leg
from tests.helpers import create_user
from tests.oidc_provider import OidcProviderServer, start_oidc_provider
from tests.servers import ServerUnavailable

FRONTEND = "http://frontend.test/sso/done"
CALLBACK = "http://test/api/v1/auth/sso/local/callback"
CLIENT = {"client_id": "plinth", "client_secret": "plinth-test-client-secret-0123456789"}


@pytest.fixture(scope="session")
def provider(leg: Leg) -> Iterator[OidcProviderServer]:
    try:
        server = start_oidc_provider([{**CLIENT, "redirect_uris": [CALLBACK]}])
    except ServerUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    with server:
        yield server


def sso_env(provider: OidcProviderServer, **extra: Any) -> dict[str, str]:
    local = {"name": "local", "issuer": provider.issuer, "display_name": "Local", **CLIENT}
    settings = [{**local, **extra}]
    return {"SSO_PROVIDERS": json.dumps(settings), "SSO_REDIRECT_ALLOWLIST": FRONTEND}


@pytest.fixture
async def sso_app(provider: OidcProviderServer, make_app: Any) -> AsyncIterator[FastAPI]:
    async with make_app(**sso_env(provider)) as app:
        yield app


@pytest.fixture
async def trusting_app(provider: OidcProviderServer, make_app: Any) -> AsyncIterator[FastAPI]:
    """The provider is trusted to sign in to existing accounts by verified email."""
    async with make_app(**sso_env(provider, link_by_email=True)) as app:
        yield app


async def frontend(scope: Scope, receive: Receive, send: Send) -> None:
    """The SPA's landing page: answers 200 to whatever it is sent."""
    await PlainTextResponse("frontend")(scope, receive, send)


def browser(app: FastAPI) -> httpx.AsyncClient:
    """One browser: a cookie jar, our app in-process, the provider over real loopback."""
    mounts = {
        "http://test": httpx.ASGITransport(app=app, raise_app_exceptions=False),
        "http://frontend.test": httpx.ASGITransport(app=frontend),
        "http://127.0.0.1": httpx.AsyncHTTPTransport(),
    }
    return httpx.AsyncClient(base_url="http://test", mounts=mounts, follow_redirects=True)


def landed(response: httpx.Response) -> dict[str, str]:
    """The query the frontend was sent to (where the flow ended)."""
    assert str(response.url).startswith(FRONTEND), (response.url, response.text)
    return {k: v[0] for k, v in parse_qs(urlsplit(str(response.url)).query).items()}


async def sign_in(http: httpx.AsyncClient, sub: str, **params: str) -> httpx.Response:
    query = {"login_hint": sub, **params}
    return await http.get(f"{API}/auth/sso/local/authorize", params=query)


async def up_to_callback(http: httpx.AsyncClient, sub: str) -> str:
    """Run the flow but stop before our callback: its URL (with the provider's code)."""
    response = await http.get(
        f"{API}/auth/sso/local/authorize", params={"login_hint": sub}, follow_redirects=False
    )
    while not response.headers["location"].startswith(CALLBACK):
        url = httpx.URL(str(response.url)).join(response.headers["location"])
        response = await http.get(url, follow_redirects=False)
    return str(response.headers["location"])


async def exchange(http: httpx.AsyncClient, code: str) -> httpx.Response:
    return await http.post(f"{API}/auth/sso/exchange", json={"code": code})


async def verify_email(database: Any, user: User) -> None:
    async with database.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(email_verified=True))
        await session.commit()


# -- signing in -------------------------------------------------------------------------------


async def test_first_sign_in_creates_an_account_with_working_tokens(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("new-1", email="New.One@Example.com", email_verified=True, name="New")
    async with browser(sso_app) as http:
        query = landed(await sign_in(http, "new-1"))
        assert set(query) == {"code"}
        pair = (await exchange(http, query["code"])).json()
        me = await http.get(f"{API}/users/me", headers=auth(pair["access_token"]))
        assert me.json()["email"] == "new.one@example.com"
        assert me.json()["full_name"] == "New"
        refreshed = await http.post(
            f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert refreshed.status_code == 200
        listed = await http.get(f"{API}/users/me/identities", headers=auth(pair["access_token"]))
        assert [(i["provider"], i["subject"]) for i in listed.json()["items"]] == [
            ("local", "new-1")
        ]
        again = landed(await sign_in(http, "new-1"))  # the same account, not a second one
        second = (await exchange(http, again["code"])).json()
        me_again = await http.get(f"{API}/users/me", headers=auth(second["access_token"]))
        assert me_again.json()["id"] == me.json()["id"]


async def test_a_trusted_provider_links_an_existing_account_when_both_emails_are_verified(
    trusting_app: FastAPI, provider: OidcProviderServer, database: Any
) -> None:
    user = await create_user(database, "linked@example.com")
    await verify_email(database, user)
    provider.add_account("linked-1", email="linked@example.com", email_verified=True)
    async with browser(trusting_app) as http:
        pair = (await exchange(http, landed(await sign_in(http, "linked-1"))["code"])).json()
        me = await http.get(f"{API}/users/me", headers=auth(pair["access_token"]))
        assert me.json()["id"] == str(user.id)


async def test_by_default_an_existing_account_is_never_signed_in_to_by_email(
    sso_app: FastAPI, provider: OidcProviderServer, database: Any
) -> None:
    """Linking by email is opt-in per provider: the user links from a signed-in session."""
    user = await create_user(database, "someone@example.com")
    await verify_email(database, user)
    provider.add_account("someone-sub", email="someone@example.com", email_verified=True)
    async with browser(sso_app) as http:
        assert landed(await sign_in(http, "someone-sub")) == {"error": "account_exists"}
        own = await tokens(http, "someone@example.com")
        listed = await http.get(f"{API}/users/me/identities", headers=auth(own["access_token"]))
        assert listed.json()["items"] == []


@pytest.mark.parametrize("scopes", [("admin",), ("superuser",), ("regular", "admin")])
async def test_even_a_trusted_provider_never_signs_in_to_a_privileged_account_by_email(
    trusting_app: FastAPI, provider: OidcProviderServer, database: Any, scopes: tuple[str, ...]
) -> None:
    boss = await create_user(database, "boss@example.com", scopes=scopes)
    await verify_email(database, boss)
    provider.add_account("boss-sub", email="boss@example.com", email_verified=True)
    async with browser(trusting_app) as http:
        assert landed(await sign_in(http, "boss-sub")) == {"error": "account_exists"}


async def test_unverified_local_address_is_refused_then_linked_from_a_session(
    sso_app: FastAPI, provider: OidcProviderServer, database: Any
) -> None:
    await create_user(database, "alice@example.com")
    provider.add_account("alice-sub", email="alice@example.com", email_verified=True)
    async with browser(sso_app) as http:
        assert landed(await sign_in(http, "alice-sub")) == {"error": "account_exists"}
        own = await tokens(http)
        start = await http.post(
            f"{API}/users/me/identities/local/link", json={}, headers=auth(own["access_token"])
        )
        assert start.status_code == 200, start.text
        linked = await http.get(f"{start.json()['authorize_url']}&login_hint=alice-sub")
        assert landed(linked) == {"linked": "local"}
        pair = (await exchange(http, landed(await sign_in(http, "alice-sub"))["code"])).json()
        me = await http.get(f"{API}/users/me", headers=auth(pair["access_token"]))
        assert me.json()["email"] == "alice@example.com"


async def test_unverified_provider_email_is_refused(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("unverified", email="unverified@example.com", email_verified=False)
    async with browser(sso_app) as http:
        assert landed(await sign_in(http, "unverified")) == {"error": "email_not_verified"}


async def test_the_last_way_to_sign_in_cannot_be_unlinked(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("only-way", email="only@example.com", email_verified=True)
    async with browser(sso_app) as http:
        pair = (await exchange(http, landed(await sign_in(http, "only-way"))["code"])).json()
        headers = auth(pair["access_token"])
        identity = (await http.get(f"{API}/users/me/identities", headers=headers)).json()
        url = f"{API}/users/me/identities/{identity['items'][0]['id']}"
        refused = await http.delete(url, headers=headers)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"


# -- the flow's own checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/sso/done",
        "http://frontend.test/sso/done/../../evil",
        "http://frontend.test/sso/done?next=https://evil.example",
        "//evil.example/sso/done",
    ],
)
async def test_a_redirect_target_outside_the_allowlist_is_refused(
    sso_app: FastAPI, return_to: str
) -> None:
    async with browser(sso_app) as http:
        response = await sign_in(http, "anyone", return_to=return_to)
        assert response.status_code == 400
        assert response.json()["detail"] == "return_to is not an allowed redirect target."


async def test_a_callback_without_state_is_a_400(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("stateless", email="stateless@example.com", email_verified=True)
    async with browser(sso_app) as http:
        callback = await up_to_callback(http, "stateless")  # a live flow exists meanwhile
        code = parse_qs(urlsplit(callback).query)["code"][0]
        for params in ({"code": code}, {"code": code, "state": ""}):
            response = await http.get(CALLBACK, params=params)
            assert response.status_code == 400, response.text
            assert response.headers["content-type"] == "application/problem+json"


async def test_a_forged_state_is_refused_while_a_real_one_is_live(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    """Tickets are found by the hash of the value presented, never by kind alone."""
    provider.add_account("live-state", email="live-state@example.com", email_verified=True)
    async with browser(sso_app) as http:
        callback = await up_to_callback(http, "live-state")
        code = parse_qs(urlsplit(callback).query)["code"][0]
        forged = await http.get(CALLBACK, params={"state": "forged-state", "code": code})
        assert forged.status_code == 400
        assert "code" in landed(await http.get(callback))


async def test_a_forged_exchange_code_is_refused_while_a_real_one_is_live(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("live-code", email="live-code@example.com", email_verified=True)
    async with browser(sso_app) as http:
        real = landed(await sign_in(http, "live-code"))["code"]
        forged = await exchange(http, "forged-" + real[:20])
        assert forged.status_code == 400, forged.text
        assert "access_token" not in forged.text
        assert (await exchange(http, real)).status_code == 200


async def test_a_forged_link_ticket_is_refused_while_a_real_one_is_live(
    sso_app: FastAPI, provider: OidcProviderServer, database: Any
) -> None:
    await create_user(database, "linker@example.com")
    provider.add_account("linker-sub", email="linker@example.com", email_verified=True)
    async with browser(sso_app) as http:
        own = await tokens(http, "linker@example.com")
        start = await http.post(
            f"{API}/users/me/identities/local/link", json={}, headers=auth(own["access_token"])
        )
        assert start.status_code == 200, start.text
        forged = await http.get(
            f"{API}/auth/sso/local/authorize",
            params={"link": "forged-ticket", "login_hint": "linker-sub"},
        )
        assert forged.status_code == 400
        linked = await http.get(f"{start.json()['authorize_url']}&login_hint=linker-sub")
        assert landed(linked) == {"linked": "local"}


async def test_a_link_url_opened_in_another_browser_links_nothing(
    sso_app: FastAPI, provider: OidcProviderServer, database: Any
) -> None:
    """The attacker starts a link and sends its URL to a victim: the victim's browser lacks the
    attacker's flow cookie, so the victim's provider account is not attached to the attacker."""
    await create_user(database, "mallory@example.com")
    provider.add_account("victim-sub", email="victim@example.com", email_verified=True)
    async with browser(sso_app) as attacker, browser(sso_app) as victim:
        own = await tokens(attacker, "mallory@example.com")
        start = await attacker.post(
            f"{API}/users/me/identities/local/link", json={}, headers=auth(own["access_token"])
        )
        assert start.status_code == 200, start.text
        opened = await victim.get(f"{start.json()['authorize_url']}&login_hint=victim-sub")
        assert opened.status_code == 400, opened.url
        assert opened.json()["detail"].endswith("was started in another browser.")
        identities = await attacker.get(
            f"{API}/users/me/identities", headers=auth(own["access_token"])
        )
        assert identities.json()["items"] == []
        victim_pair = await exchange(victim, landed(await sign_in(victim, "victim-sub"))["code"])
        me = await victim.get(f"{API}/users/me", headers=auth(victim_pair.json()["access_token"]))
        assert me.json()["email"] == "victim@example.com"  # their own new account


async def test_wrong_state_is_refused(sso_app: FastAPI) -> None:
    async with browser(sso_app) as http:
        response = await http.get(CALLBACK, params={"state": "forged", "code": "x"})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"


async def test_reused_state_is_refused(sso_app: FastAPI, provider: OidcProviderServer) -> None:
    provider.add_account("replay", email="replay@example.com", email_verified=True)
    async with browser(sso_app) as http:
        callback = await up_to_callback(http, "replay")
        assert "code" in landed(await http.get(callback))
        again = await http.get(callback)
        assert again.status_code == 400


async def test_state_from_another_browser_is_refused(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("victim", email="victim@example.com", email_verified=True)
    async with browser(sso_app) as started, browser(sso_app) as other:
        callback = await up_to_callback(started, "victim")
        assert (await other.get(callback)).status_code == 400
        assert "code" in landed(await started.get(callback))  # the real browser still can


async def test_reused_codes_are_refused(sso_app: FastAPI, provider: OidcProviderServer) -> None:
    provider.add_account("codes", email="codes@example.com", email_verified=True)
    async with browser(sso_app) as http:
        first = await up_to_callback(http, "codes")
        ours = landed(await http.get(first))["code"]
        assert (await exchange(http, ours)).status_code == 200
        reused_ours = await exchange(http, ours)
        assert reused_ours.status_code == 400
        provider_code = parse_qs(urlsplit(first).query)["code"][0]
        fresh_state = parse_qs(urlsplit(await up_to_callback(http, "codes")).query)["state"][0]
        replayed = await http.get(CALLBACK, params={"state": fresh_state, "code": provider_code})
        assert landed(replayed) == {"error": "code_rejected"}


@pytest.mark.parametrize("quirk", ["wrong_nonce", "expired", "wrong_aud", "unknown_key"])
async def test_an_id_token_that_does_not_hold_up_is_refused(
    sso_app: FastAPI, provider: OidcProviderServer, quirk: str
) -> None:
    provider.add_account("quirky", email="quirky@example.com", email_verified=True)
    async with browser(sso_app) as http:
        provider.next_id_token(quirk)
        assert landed(await sign_in(http, "quirky")) == {"error": "invalid_id_token"}
        assert "code" in landed(await sign_in(http, "quirky"))  # the next honest one works


async def test_a_rotated_signing_key_is_fetched_from_the_jwks(
    sso_app: FastAPI, provider: OidcProviderServer
) -> None:
    provider.add_account("rotation", email="rotation@example.com", email_verified=True)
    async with browser(sso_app) as http:
        assert "code" in landed(await sign_in(http, "rotation"))  # JWKS now cached
        provider.rotate_keys()
        assert "code" in landed(await sign_in(http, "rotation"))


async def test_unknown_provider_is_404_and_providers_are_listed(sso_app: FastAPI) -> None:
    async with browser(sso_app) as http:
        assert (await http.get(f"{API}/auth/sso/nope/authorize")).status_code == 404
        listed = (await http.get(f"{API}/auth/sso/providers")).json()
        assert listed == [
            {
                "name": "local",
                "display_name": "Local",
                "authorize_url": f"{API}/auth/sso/local/authorize",
            }
        ]
