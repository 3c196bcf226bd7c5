"""Account emails over HTTP: ask for a link (verify, reset, change address), follow one.

Every route that may send mail is limited per address and per client IP (`MAIL_SENDS`) and
answers the same 202 body whatever the address. `pages` are the small HTML pages the emailed
links open by default (EMAIL_*_PATH), so the flows work in a browser without a frontend.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from app.users.limits import MAIL_SENDS, PASSWORD_CHECKS
from app.users.schemas import (
    EmailChangeRequest,
    EmailRequest,
    MailAccepted,
    PasswordResetConfirm,
    TokenConfirm,
)
from app.users.service import AccountService
from core.deps import PrincipalDep, provide
from core.openapi import operation_ids, problem_responses
from core.platform.cache import invalidates
from routers.gates import PEOPLE_ONLY

ACCOUNT_IDS = operation_ids("account")
router = APIRouter(
    prefix="/auth",
    tags=["account emails"],
    dependencies=[invalidates("users")],
    generate_unique_id_function=ACCOUNT_IDS,
)
"""Public: asking for a link and following one need no token."""
me_router = APIRouter(
    prefix="/users/me",
    tags=["account emails"],
    dependencies=[invalidates("users"), *PEOPLE_ONLY],
    generate_unique_id_function=ACCOUNT_IDS,
)
"""Included with the authenticated gate; refused to API keys (changing the address is a
person's act, and its password check must not be an oracle for a leaked key)."""

Account = Annotated[AccountService, Depends(provide(AccountService))]
SENDS_MAIL = problem_responses(429)  # MAIL_SENDS, charged in the handler
FOLLOWS_LINK = problem_responses(400)


@router.post(
    "/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MailAccepted,
    responses=SENDS_MAIL,
)
async def resend_verification(
    data: EmailRequest, request: Request, response: Response, account: Account
) -> Any:
    """Send a new verification link to the address if it is an unverified account's (older
    links stop working). The answer is the same for every address."""
    await MAIL_SENDS.hit(request, data.email, response)
    account.request_verification(data.email)
    return MailAccepted()


@router.post("/verify-email", status_code=status.HTTP_204_NO_CONTENT, responses=FOLLOWS_LINK)
async def verify_email(data: TokenConfirm, account: Account) -> None:
    """Confirm the address with the token of a verification link (it works once)."""
    await account.verify_email(data.token)


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MailAccepted,
    responses=SENDS_MAIL,
)
async def request_password_reset(
    data: EmailRequest, request: Request, response: Response, account: Account
) -> Any:
    """Forgot the password: a reset link goes to the address if it is an account's. The
    answer is the same, in the same time, for every address."""
    await MAIL_SENDS.hit(request, data.email, response)
    account.request_password_reset(data.email)
    return MailAccepted()


@router.post(
    "/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT, responses=FOLLOWS_LINK
)
async def reset_password(data: PasswordResetConfirm, account: Account) -> None:
    """Set a new password with the token of a reset link (it works once). Every session and
    token of the account ends: log in again with the new password."""
    await account.reset_password(data)


@router.post(
    "/email-change/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 409),
)
async def confirm_email_change(data: TokenConfirm, account: Account) -> None:
    """Move the account to its new address with the token sent there (it works once); 409
    when another account took the address meanwhile."""
    await account.confirm_email_change(data.token)


@me_router.post(
    "/email",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MailAccepted,
    responses=SENDS_MAIL,
)
async def request_email_change(
    data: EmailChangeRequest,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    account: Account,
) -> Any:
    """Change the address (`current_password` required): a confirmation link goes to the new
    address, a notice to the current one; the change applies when the link is followed. Wrong
    `current_password` answers are limited per account (RATE_LIMIT_PASSWORD_CHECK): 429."""
    assert principal is not None
    await MAIL_SENDS.hit(request, data.email, response)
    async with PASSWORD_CHECKS.attempt(request, str(principal.id), response):
        await account.request_email_change(data)
    return MailAccepted(detail="A confirmation link is on its way to the new address.")
