"""/auth: register, the OAuth2 password flow, refresh rotation and logout."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from app.two_factor.service import tokens_or_challenge
from app.users.limits import FAILED_LOGINS, MAIL_SENDS, REGISTRATIONS
from app.users.schemas import RefreshRequest, TokenResponse, UserRead, UserRegister
from app.users.service import AuthService
from core.deps import provide
from core.forms import PasswordForm, password_form
from core.openapi import operation_ids, problem_responses
from core.platform.cache import invalidates
from routers.gates import PEOPLE_ONLY

AUTH_IDS = operation_ids("auth")
router = APIRouter(
    prefix="/auth",
    tags=["auth"],
    dependencies=[invalidates("users")],
    generate_unique_id_function=AUTH_IDS,
)
"""Public: no token needed."""
session_router = APIRouter(
    prefix="/auth",
    tags=["auth"],
    dependencies=[invalidates("users"), *PEOPLE_ONLY],
    generate_unique_id_function=AUTH_IDS,
)
"""Needs a valid access token (included with Gate.AUTHENTICATED)."""

Auth = Annotated[AuthService, Depends(provide(AuthService))]


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    dependencies=[Depends(REGISTRATIONS)],
)
async def register(data: UserRegister, request: Request, response: Response, auth: Auth) -> Any:
    """Create an account with the `regular` scope; a verification link goes to its address
    (`email_verified` is false until it is followed). An address that already has an account
    gets the same answer (nothing is created or changed) and its owner a mail saying so:
    this route does not reveal which addresses have accounts."""
    await MAIL_SENDS.hit(request, data.email, response)
    return await auth.register(data)


@router.post("/login", response_model=TokenResponse, responses=problem_responses(401))
async def login(
    request: Request,
    response: Response,
    form: Annotated[PasswordForm, Depends(password_form)],
    auth: Auth,
) -> Any:
    """OAuth2 password flow: `username` is the email; `scope` narrows what the token may do
    (space-separated, empty = every scope the account holds). An account with two-factor
    sign-in gets 401 `mfa-required` with an `mfa_token`: send it and a code to
    POST /auth/2fa/verify for the tokens."""
    async with FAILED_LOGINS.attempt(request, form.username, response):
        outcome = await auth.login(form.username, form.password, form.scopes)
    return tokens_or_challenge(outcome)


@router.post("/refresh", response_model=TokenResponse, responses=problem_responses(401))
async def refresh(data: RefreshRequest, auth: Auth) -> Any:
    """A new token pair; the presented refresh token stops working. Presenting it again
    revokes the whole session."""
    return await auth.refresh(data.refresh_token)


@session_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(auth: Auth) -> None:
    """End this session: its refresh token and access tokens stop working now."""
    await auth.logout()


@session_router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(auth: Auth) -> None:
    """End every session of the account, on every device."""
    await auth.logout_all()
