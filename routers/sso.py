"""/auth/sso: sign in with an OpenID Connect provider; /users/me/identities: linked accounts.

The browser flow: `authorize` → the provider → `callback` → the frontend (`return_to`, from
SSO_REDIRECT_ALLOWLIST) with `?code=` → the frontend POSTs it to `exchange` for a token pair.
"""

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.sso.controller import IdentityController
from app.sso.schemas import ExchangeRequest, IdentityRead, LinkRequest, LinkStart, ProviderRead
from app.sso.service import BINDING_COOKIE, FLOW_INVALID, SsoService
from app.two_factor.service import tokens_or_challenge
from app.users.schemas import TokenResponse
from configs import get_settings
from core.crud import CrudRouter
from core.deps import provide
from core.errors import BadRequest
from core.fields import Text
from core.openapi import operation_ids, problem_responses, response_headers
from core.platform.cache import invalidates
from routers.gates import API_PREFIX, PEOPLE_ONLY

router = APIRouter(
    prefix="/auth/sso",
    tags=["sso"],
    dependencies=[invalidates("users")],
    generate_unique_id_function=operation_ids("sso"),
)
"""Public: the browser flow and the code exchange."""

identities_router = CrudRouter(
    IdentityController,
    IdentityRead,
    prefix="/users/me/identities",
    tags=["users"],
    exclude=["create", "update", "restore"],
    route_dependencies={"delete": PEOPLE_ONLY},
)
"""Included with the authenticated gate: your linked provider accounts; unlink one (never the
last way to sign in: 409)."""

Sso = Annotated[SsoService, Depends(provide(SsoService))]
Param = Annotated[Text | None, Query(max_length=2000)]
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@router.get("/providers", response_model=list[ProviderRead])
async def list_providers() -> Any:
    """The providers configured in SSO_PROVIDERS, with the URL that starts each sign-in."""
    return [
        ProviderRead(
            name=p.name,
            display_name=p.display_name or p.name,
            authorize_url=f"{API_PREFIX}/auth/sso/{p.name}/authorize",
        )
        for p in get_settings().sso.providers
    ]


@router.get(
    "/{provider}/authorize",
    status_code=302,
    response_class=RedirectResponse,
    responses={
        302: {
            "description": "To the provider; the flow's cookie is set.",
            "headers": response_headers("Location", "Set-Cookie", *NO_STORE),
        },
        **problem_responses(400, 503),
    },
)
async def authorize(
    provider: str,
    request: Request,
    sso: Sso,
    return_to: Param = None,
    link: Annotated[Text | None, Query(max_length=200)] = None,
    login_hint: Annotated[Text | None, Query(max_length=320)] = None,
) -> RedirectResponse:
    """Open in the browser: redirects to the provider (authorization code + PKCE, `state`,
    `nonce`). `return_to` must be one of SSO_REDIRECT_ALLOWLIST exactly (default: the first).
    Sets a short-lived HttpOnly cookie that binds the flow to this browser."""
    binding = _binding(request)
    url = await sso.start(
        provider,
        base_url=str(request.base_url),
        return_to=return_to,
        binding=binding,
        link=link,
        login_hint=login_hint,
    )
    response = _redirect(url)
    _bind_browser(response, binding, sso, provider, request)
    return response


def _binding(request: Request) -> str:
    """The browser's flow cookie, or a new random value for it."""
    return (request.cookies.get(BINDING_COOKIE) or secrets.token_urlsafe(32))[:200]


def _bind_browser(
    response: Response, binding: str, sso: SsoService, provider: str, request: Request
) -> None:
    """Set the short-lived HttpOnly cookie the flow (and a link ticket) is bound to."""
    response.set_cookie(
        BINDING_COOKIE,
        binding,
        max_age=sso.settings.state_ttl_seconds,
        path=f"{API_PREFIX}/auth/sso",
        httponly=True,
        secure=sso.callback_url(provider, str(request.base_url)).startswith("https://"),
        samesite="lax",
    )


@router.get(
    "/{provider}/callback",
    status_code=302,
    response_class=RedirectResponse,
    responses={
        302: {
            "description": "To `return_to`, with `?code=`, `?error=` or `?linked=`.",
            "headers": response_headers("Location", *NO_STORE),
        },
        **problem_responses(400),
    },
)
async def callback(
    provider: str,
    request: Request,
    sso: Sso,
    state: Annotated[Text | None, Query(max_length=500)] = None,
    code: Annotated[Text | None, Query(max_length=2000)] = None,
    error: Annotated[Text | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    """Where the provider sends the browser back. A bad, used or foreign `state` is a 400;
    after that, the browser goes to `return_to` with `?code=` (exchange it) or `?error=`
    (`access_denied`, `provider_error`, `code_rejected`, `invalid_id_token`,
    `email_required`, `email_not_verified`, `account_exists` (sign in as before, then link
    from the session), `account_disabled`,
    `identity_in_use`), or `?linked=<provider>` after linking."""
    if not state:
        raise BadRequest(FLOW_INVALID)
    done = await sso.finish(
        provider,
        state=state,
        binding=request.cookies.get(BINDING_COOKIE),
        code=code,
        error=error,
    )
    return _redirect(done.url)


@router.post("/exchange", response_model=TokenResponse, responses=problem_responses(400, 401))
async def exchange(data: ExchangeRequest, sso: Sso) -> Any:
    """Trade the one-time `code` from the callback's redirect (valid 60 s, once) for an access
    and refresh token pair: a session like a password login's. An account with two-factor
    sign-in gets 401 `mfa-required` with an `mfa_token` for POST /auth/2fa/verify instead."""
    return tokens_or_challenge(await sso.exchange(data.code))


@identities_router.post(
    "/{provider}/link",
    response_model=LinkStart,
    dependencies=PEOPLE_ONLY,
    responses=problem_responses(400),
)
async def link(
    provider: str, data: LinkRequest, request: Request, response: Response, sso: Sso
) -> Any:
    """Start linking a provider account to yours: open `authorize_url` in this browser; it
    comes back to `return_to?linked=<provider>` (or `?error=`). The answer sets the flow's
    HttpOnly cookie, and the link works only in the browser that holds it: send this request
    with the browser's cookies (`fetch(…, {credentials: "include"})`)."""
    binding = _binding(request)
    started = await sso.link_ticket(provider, data.return_to, binding)
    _bind_browser(response, binding, sso, provider, request)
    return started
