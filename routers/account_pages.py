"""/account: the HTML pages that emailed links open by default (EMAIL_VERIFY_PATH, ...).

Opening a link never acts by itself (mail scanners fetch links): the page shows a form that
posts the token back, and the POST does what the JSON routes in `routers/account.py` do. The
pages send no referrer (the token is in their URL), are never cached, and allow no script.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from app.users.schemas import PasswordResetConfirm
from app.users.service import AccountService
from core.deps import provide
from core.errors import AppError
from core.platform.cache import invalidates

TEMPLATES = Jinja2Templates(Path(__file__).parent.parent / "app" / "users" / "templates" / "pages")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

pages = APIRouter(prefix="/account", include_in_schema=False, dependencies=[invalidates("users")])
"""Public HTML pages (outside the API prefix). Like the JSON routes, a POST clears the cached
user reads (an admin's `GET /users/{id}` shows the verified address at once)."""

Account = Annotated[AccountService, Depends(provide(AccountService))]
Token = Annotated[str, Form(max_length=200)]
LinkToken = Annotated[str, Query(max_length=200)]
Password = Annotated[str, Form(max_length=1024)]


@dataclass(frozen=True)
class Page:
    """One flow's wording: its form, and what it says when done."""

    path: str
    title: str
    text: str
    button: str
    done: str
    password: bool = False


VERIFY = Page(
    "/account/verify-email",
    "Confirm your email address",
    "Press the button to confirm that this address is yours.",
    "Confirm my address",
    "Your email address is confirmed. You can close this page.",
)
RESET = Page(
    "/account/reset-password",
    "Choose a new password",
    "Setting a new password signs you out everywhere.",
    "Set my new password",
    "Your password is changed and every session has ended: log in with the new password.",
    password=True,
)
CHANGE = Page(
    "/account/confirm-email",
    "Confirm your new email address",
    "Press the button to make this address the one of your account.",
    "Use this address",
    "Your account now uses this address. You can close this page.",
)


def _render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    settings = request.app.state.settings
    context = {
        "product": settings.email.product_name,
        "min_length": settings.auth.password_min_length,
        "max_length": settings.auth.password_max_length,
        **values,
    }
    return TEMPLATES.TemplateResponse(request, name, context, status, HEADERS)


def form(request: Request, page: Page, token: str, error: str = "", status: int = 200) -> Any:
    """The page's form, carrying the token."""
    if not token:
        return done(request, page, "This link is incomplete: open it again from the email.", 400)
    values: dict[str, Any] = {"title": page.title, "text": page.text, "button": page.button}
    values |= {"action": page.path, "token": token, "password": page.password, "error": error}
    return _render(request, "form.html", status, **values)


def done(request: Request, page: Page, failure: str = "", status: int = 200) -> Any:
    """The outcome: done, or why not."""
    title = "That did not work" if failure else page.title
    return _render(request, "done.html", status, title=title, text=failure or page.done)


async def _failed(request: Request, page: Page, account: AccountService, exc: AppError) -> Any:
    await account.unit_of_work.rollback()  # the page answers, so nothing else may commit
    return done(request, page, exc.detail, exc.status)


@pages.get("/verify-email", response_class=HTMLResponse)
async def verify_form(request: Request, token: LinkToken = "") -> Any:
    return form(request, VERIFY, token)


@pages.post("/verify-email", response_class=HTMLResponse)
async def verify(request: Request, token: Token, account: Account) -> Any:
    try:
        await account.verify_email(token)
    except AppError as exc:
        return await _failed(request, VERIFY, account, exc)
    return done(request, VERIFY)


@pages.get("/reset-password", response_class=HTMLResponse)
async def reset_form(request: Request, token: LinkToken = "") -> Any:
    return form(request, RESET, token)


@pages.post("/reset-password", response_class=HTMLResponse)
async def reset(request: Request, token: Token, password: Password, account: Account) -> Any:
    try:
        data = PasswordResetConfirm(token=token, password=password)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        return form(request, RESET, token, message, 400)
    try:
        await account.reset_password(data)
    except AppError as exc:
        return await _failed(request, RESET, account, exc)
    return done(request, RESET)


@pages.get("/confirm-email", response_class=HTMLResponse)
async def change_form(request: Request, token: LinkToken = "") -> Any:
    return form(request, CHANGE, token)


@pages.post("/confirm-email", response_class=HTMLResponse)
async def change(request: Request, token: Token, account: Account) -> Any:
    try:
        await account.confirm_email_change(token)
    except AppError as exc:
        return await _failed(request, CHANGE, account, exc)
    return done(request, CHANGE)
