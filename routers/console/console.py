"""`Console`: SQLAdmin, signed in to with the API's own accounts, sessions and limits.

Sign-in is `ConsoleAuthService` (the API's password and second-factor flow, admins only),
limited like POST /auth/login; the cookie keeps the new session's claims, checked again on
every request as a bearer token is (`principal_for_claims`), so a deactivated or demoted
admin, or an ended session, loses the console at once. Writes are `Write`s (writes.py).
"""

import hashlib
import hmac
import uuid
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from sqladmin import Admin
from sqladmin.authentication import AuthenticationBackend
from sqladmin.flash import Flash, FlashLevel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.two_factor.limits import FAILED_CODES, account_of
from app.two_factor.schemas import MfaChallenge
from app.two_factor.service import TwoFactorService
from app.users.authentication import principal_for_claims
from app.users.console import ConsoleAuthService
from app.users.limits import FAILED_LOGINS
from app.users.service import AuthService
from configs import Settings
from core.db import Database
from core.errors import AppError
from core.platform.cache import invalidate
from core.security import Principal, Scope
from core.service import unit_of_work
from routers.console.pages import AuditLogView, RequestLogView
from routers.console.security import (
    ConsoleHeaders,
    ConsoleSession,
    SameOriginWrites,
    csrf_ok,
    csrf_token,
)
from routers.console.views import MODEL_VIEWS, ConsoleView, console_principal
from routers.console.writes import Run

PATH = "/admin"
TEMPLATES = Path(__file__).parent / "templates"
CLAIMS = "claims"
KEPT_ROUTES = {"statics", "index", "list", "details", "login"}
"""sqladmin's routes the console keeps; its create, edit, delete, import, export, file and
lookup routes are dropped (every change is a `Write`)."""
FORM_EXPIRED = "The form expired: reload the page and try again."


class ConsoleAuth(AuthenticationBackend):
    """Checks the console's sign-in on every request; `Console.login` makes it."""

    def __init__(self) -> None:
        self.middlewares: list[Middleware] = []  # the session is the console's own (security.py)

    async def login(self, request: Request) -> bool:
        return False  # never called: `Console.login` replaces sqladmin's

    async def logout(self, request: Request) -> bool:
        return False  # never called: `Console.logout` replaces sqladmin's

    async def authenticate(self, request: Request) -> bool:
        """Whether the cookie's session is still an admin's (sets `console_principal`)."""
        claims = request.session.get(CLAIMS)
        if not isinstance(claims, dict):
            return False
        try:
            principal = await principal_for_claims(_database(request), claims)
        except AppError:
            principal = None
        if principal is None or not principal.has(Scope.ADMIN) or principal.api_key_id:
            request.session.clear()
            return False
        request.state.console_principal = principal
        return True

    async def get_user_id(self, request: Request) -> Any:
        return str(console_principal(request).id)


class _Sessions:
    """sqladmin's session maker for its reads, resolved on each call: the database exists once
    the app's lifespan has started."""

    class_ = AsyncSession

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def configure(self, **_: Any) -> None:
        """sqladmin configures its maker; ours are the database's own."""

    def __call__(self, **kwargs: Any) -> AsyncSession:
        database: Database = self.app.state.database
        return database.sessionmaker(**kwargs)


class Console(Admin):
    """The admin console mounted at /admin (`install_console`)."""

    def __init__(self, app: Starlette, settings: Settings) -> None:
        middlewares = [
            Middleware(ConsoleHeaders),
            Middleware(
                ConsoleSession,
                secret_key=cookie_key(settings.secret_key),
                path=PATH,
                always_secure=settings.app.is_production,
            ),
            Middleware(SameOriginWrites),
        ]
        self.auth = ConsoleAuth()
        super().__init__(
            app,
            session_maker=cast(Any, _Sessions(app)),
            base_url=PATH,
            title=f"{settings.app.name} admin",
            templates_dir=str(TEMPLATES),
            middlewares=middlewares,
            authentication_backend=self.auth,
        )
        self.admin.state = app.state  # settings, database, Redis: the API's own
        self.templates.env.globals["csrf_token"] = csrf_token
        self.admin.router.routes = [*self._kept_routes(), *self._own_routes()]
        for view in MODEL_VIEWS:
            self.add_view(view)
        self.add_view(RequestLogView)
        self.add_view(AuditLogView)

    def _kept_routes(self) -> list[BaseRoute]:
        return [r for r in self.admin.router.routes if getattr(r, "name", None) in KEPT_ROUTES]

    def _own_routes(self) -> list[BaseRoute]:
        return [
            Route("/logout", self.logout, methods=["GET", "POST"], name="logout"),
            Route("/{identity}/write/{slug}/{pk}", self.write, methods=["POST"], name="write"),
        ]

    # -- signing in and out ------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        """GET: the form. POST: the password step, then the code step when the account has a
        second factor; a failure shows the form again with the API's reason and status."""
        if request.method == "GET":
            return await self._page(request, "sqladmin/login.html")
        form = await request.form()
        if not csrf_ok(request, form):
            return await self._page(request, "sqladmin/login.html", {"error": FORM_EXPIRED}, 403)
        mfa_token = _text(form, "mfa_token")
        try:
            if mfa_token:
                claims = await _second_step(request, mfa_token, _text(form, "code"))
            else:
                outcome = await _password_step(
                    request, _text(form, "username"), _text(form, "password")
                )
                if isinstance(outcome, MfaChallenge):
                    return await self._page(
                        request, "console/code.html", {"mfa_token": outcome.mfa_token}
                    )
                claims = outcome
        except AppError as error:
            context = {"error": error.detail, "mfa_token": mfa_token}
            template = "console/code.html" if mfa_token else "sqladmin/login.html"
            return await self._page(request, template, context, error.status)
        request.session.clear()  # a new session, a new CSRF token
        request.session[CLAIMS] = claims
        return RedirectResponse(request.url_for("admin:index"), status_code=303)

    async def logout(self, request: Request) -> Response:
        """GET: a sign-out button. POST: end the console's session (as POST /auth/logout)."""
        if request.method == "GET":
            return await self._page(request, "console/logout.html")
        if not csrf_ok(request, await request.form()):
            return await self._page(request, "console/logout.html", {"error": FORM_EXPIRED}, 403)
        if await self.auth.authenticate(request):
            async with unit_of_work(_database(request)) as session:
                await AuthService(session, console_principal(request)).logout()
        request.session.clear()
        return RedirectResponse(request.url_for("admin:login"), status_code=303)

    # -- writes ------------------------------------------------------------------------------

    async def write(self, request: Request) -> Response:
        """POST /admin/{view}/write/{slug}/{id}: one `Write`, then back to the row (or list)."""
        if not await self.auth.authenticate(request):
            return RedirectResponse(request.url_for("admin:login"), status_code=303)
        view = self._find_model_view(request.path_params["identity"])
        write = (
            view.write_named(request.path_params["slug"]) if isinstance(view, ConsoleView) else None
        )
        me = console_principal(request)
        if write is None or not write.allowed(me) or not view.is_accessible(request):
            raise HTTPException(status_code=404)
        form = await request.form()
        if not csrf_ok(request, form):
            raise HTTPException(status_code=403, detail=FORM_EXPIRED)
        await _run(request, write.run, me, request.path_params["pk"], form, write.invalidates)
        if write.gone:
            return RedirectResponse(request.url_for("admin:list", identity=view.identity), 303)
        details = request.url_for(
            "admin:details", identity=view.identity, pk=request.path_params["pk"]
        )
        return RedirectResponse(details, status_code=303)

    async def _page(
        self, request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
    ) -> Response:
        return await self.templates.TemplateResponse(request, name, context, status_code=status)


async def _run(
    request: Request, run: Run, me: Principal, pk: str, form: FormData, namespaces: tuple[str, ...]
) -> None:
    """Run a write in a unit of work of its own; its message, or the API's error, is flashed."""
    try:
        row_id = uuid.UUID(pk)
        async with unit_of_work(_database(request)) as session:
            message = await run(session, me, row_id, form)
        await invalidate(request, *namespaces)
        Flash.flash(request, message, FlashLevel.success)
    except ValueError:
        Flash.flash(request, "No such row.", FlashLevel.error)
    except ValidationError as exc:
        Flash.flash(request, "; ".join(str(e["msg"]) for e in exc.errors()), FlashLevel.error)
    except AppError as exc:
        Flash.flash(request, exc.detail, FlashLevel.error)


async def _password_step(
    request: Request, email: str, password: str
) -> dict[str, Any] | MfaChallenge:
    async with (
        FAILED_LOGINS.attempt(request, email),
        unit_of_work(_database(request)) as session,
    ):
        return await ConsoleAuthService(session, None).console_login(email, password)


async def _second_step(request: Request, mfa_token: str, code: str) -> dict[str, Any]:
    async with unit_of_work(_database(request)) as session:
        user_id = await TwoFactorService(session, None).challenged_user(mfa_token)
    async with (
        FAILED_CODES.attempt(request, account_of(user_id)),
        unit_of_work(_database(request)) as session,
    ):
        return await ConsoleAuthService(session, None).console_second_step(mfa_token, code)


def cookie_key(secret_key: str) -> str:
    """The cookie's signing key: derived from AUTH_SECRET_KEY, so nothing signed for the API
    (tokens, cursors) is ever a valid console cookie, nor the reverse."""
    return hmac.new(secret_key.encode(), b"plinth admin console cookie", hashlib.sha256).hexdigest()


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database
