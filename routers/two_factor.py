"""/auth/2fa/verify: a sign-in's second step; /users/me/2fa: one's own authenticator and
recovery codes; /users/{id}/2fa: an admin's reset."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from app.two_factor.limits import FAILED_CODES, account_of
from app.two_factor.schemas import (
    CodeConfirm,
    Enrolment,
    EnrolmentStart,
    MfaVerify,
    NewRecoveryCodes,
    TwoFactorStatus,
)
from app.two_factor.service import TwoFactorService
from app.users.schemas import TokenResponse
from app.users.service import AuthService
from core.deps import PrincipalDep, provide
from core.openapi import operation_ids, problem_responses
from core.platform.cache import invalidates
from routers.gates import PEOPLE_ONLY

router = APIRouter(
    prefix="/auth/2fa", tags=["auth"], generate_unique_id_function=operation_ids("auth")
)
"""Public: the challenge is the credential."""

me_router = APIRouter(
    prefix="/users/me/2fa",
    tags=["users"],
    dependencies=PEOPLE_ONLY,
    generate_unique_id_function=operation_ids("two_factor"),
)
"""Included with the authenticated gate; refused to API keys."""

admin_router = APIRouter(
    prefix="/users",
    tags=["users: admin"],
    dependencies=[invalidates("users")],
    generate_unique_id_function=operation_ids("users"),
)
"""Included with the admin gate."""

Auth = Annotated[AuthService, Depends(provide(AuthService))]
TwoFactor = Annotated[TwoFactorService, Depends(provide(TwoFactorService))]
NO_STORE = {"Cache-Control": "no-store"}  # on answers that show a secret once


def _caller(principal: PrincipalDep) -> str:
    """The limiter's account name of the caller."""
    assert principal is not None  # the authenticated gate ran
    return account_of(principal.id)


Caller = Annotated[str, Depends(_caller)]


@router.post("/verify", response_model=TokenResponse, responses=problem_responses(401))
async def verify(data: MfaVerify, request: Request, response: Response, auth: Auth) -> Any:
    """The second step of a sign-in: the `mfa_token` of the 401 `mfa-required` answer (from
    POST /auth/login or /auth/sso/exchange) and a code from the authenticator app, or an unused
    recovery code. Answers the session's token pair; the token works once. Wrong codes are
    limited per account (RATE_LIMIT_TOTP_ACCOUNT) and per client IP."""
    user_id = await auth.service(TwoFactorService).challenged_user(data.mfa_token)
    async with FAILED_CODES.attempt(request, account_of(user_id), response):
        return await auth.finish_sign_in(data.mfa_token, data.code)


@me_router.get("", response_model=TwoFactorStatus)
async def read_status(two_factor: TwoFactor) -> Any:
    """Whether sign-ins need a code, whether an enrolment is pending, whether your scopes
    require the factor, and how many recovery codes are left."""
    return await two_factor.status()


@me_router.post(
    "/enrol",
    status_code=status.HTTP_201_CREATED,
    response_model=Enrolment,
    responses=problem_responses(403),
)
async def enrol(
    data: EnrolmentStart, request: Request, response: Response, caller: Caller, tf: TwoFactor
) -> Any:
    """Start setting up an authenticator app (your password required): answers its secret and
    `otpauth://` URI, this once. Sign-ins need no code until POST /users/me/2fa/confirm."""
    response.headers.update(NO_STORE)
    async with FAILED_CODES.attempt(request, caller, response):
        return await tf.start_enrolment(data)


@me_router.post("/confirm", response_model=NewRecoveryCodes)
async def confirm(
    data: CodeConfirm, request: Request, response: Response, caller: Caller, tf: TwoFactor
) -> Any:
    """Turn two-factor sign-in on with a first code from the app. Answers ten single-use
    recovery codes, this once: keep them somewhere safe."""
    response.headers.update(NO_STORE)
    async with FAILED_CODES.attempt(request, caller, response):
        return await tf.confirm(data.code)


@me_router.post("/recovery-codes", response_model=NewRecoveryCodes)
async def renew_recovery_codes(
    data: CodeConfirm, request: Request, response: Response, caller: Caller, tf: TwoFactor
) -> Any:
    """Ten new recovery codes for a fresh code (or a recovery code); the old ones stop
    working."""
    response.headers.update(NO_STORE)
    async with FAILED_CODES.attempt(request, caller, response):
        return await tf.renew_recovery_codes(data.code)


@me_router.post("/disable", status_code=status.HTTP_204_NO_CONTENT)
async def disable(
    data: CodeConfirm, request: Request, response: Response, caller: Caller, tf: TwoFactor
) -> None:
    """Turn two-factor sign-in off with a fresh code (or a recovery code): the secret and the
    recovery codes are deleted."""
    async with FAILED_CODES.attempt(request, caller, response):
        await tf.disable(data.code)


@admin_router.delete(
    "/{user_id}/2fa", status_code=status.HTTP_204_NO_CONTENT, dependencies=PEOPLE_ONLY
)
async def reset_two_factor(user_id: uuid.UUID, tf: TwoFactor) -> None:
    """Admin: remove a user's second factor (lost authenticator and recovery codes); they sign
    in with the password alone until they enrol again. Only a superuser may reset a
    superuser's; never with an API key."""
    await tf.reset(user_id)
