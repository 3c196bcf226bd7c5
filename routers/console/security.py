"""The console's page safety: its headers (a strict Content-Security-Policy), its session cookie
and its cross-site request checks."""

import hmac
import secrets
from typing import Literal
from urllib.parse import urlsplit

from starlette.datastructures import FormData, MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
"""Scripts, styles and fonts from the console's own static files only: no inline script or
style runs, and no other site may frame the console."""
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SESSION_COOKIE = "plinth_console"
SESSION_SECONDS = 8 * 3600
"""How long a console sign-in lasts at most; its API session may end it sooner."""
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE = "Cross-site requests to the console are refused."


class ConsoleHeaders:
    """Puts `HEADERS` on every console response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ConsoleSession:
    """Starlette's signed-cookie session: `HttpOnly`, `SameSite=Strict`, path /admin, and
    `Secure` whenever the request came over TLS (or always, with `always_secure`)."""

    def __init__(self, app: ASGIApp, *, secret_key: str, path: str, always_secure: bool) -> None:
        def session(https_only: bool) -> SessionMiddleware:
            same_site: Literal["strict"] = "strict"
            return SessionMiddleware(
                app,
                secret_key=secret_key,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_SECONDS,
                path=path,
                same_site=same_site,
                https_only=https_only,
            )

        self.plain = session(always_secure)
        self.tls = session(True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tls = scope.get("scheme") in {"https", "wss"}
        await (self.tls if tls else self.plain)(scope, receive, send)


class SameOriginWrites:
    """Refuses (403) every request that could change something (any method but GET, HEAD,
    OPTIONS) unless its `Origin` header names this host: browsers send it with every such
    request, and another site cannot forge it. The CSRF token of each form is checked too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            request = Request(scope)
            origin = urlsplit(request.headers.get("origin", "")).netloc
            if not origin or origin != request.headers.get("host"):
                await PlainTextResponse(CROSS_SITE, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, for a form's hidden `csrf_token` field (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, form: FormData) -> bool:
    """Whether the form carries the session's CSRF token."""
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(sent, str) or not isinstance(expected, str):
        return False
    return hmac.compare_digest(sent, expected)
