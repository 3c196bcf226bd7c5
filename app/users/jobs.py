"""Jobs of the users domain: the account emails, and the scheduled purges."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from app.users.email import issue_token, mailer, send_link
from app.users.models import Purpose, User
from app.users.repository import (
    AuthSessionRepository,
    EmailTokenRepository,
    RefreshTokenRepository,
    UserRepository,
)
from core.db import utcnow
from core.platform.jobs import JobContext, JobRegistry
from core.service import unit_of_work

logger = logging.getLogger("plinth.users.jobs")

REVOKED_KEPT_FOR = timedelta(days=1)  # a revoked session stays visible a day, for support

jobs = JobRegistry()
jobs.add(mailer.job)  # the users domain's plain templated emails (the address-change notice)

FindUser = Callable[[UserRepository], Awaitable[User | None]]


async def _live_user(users: UserRepository, *, email: str) -> User | None:
    user = await users.one_or_none(users.by_email(email))
    return user if user is not None and user.is_active else None


async def _token_for(
    ctx: JobContext, find: FindUser, purpose: Purpose, new_email: str | None = None
) -> tuple[User, str] | None:
    """The user `find` returns and this run's token for `purpose`; None if there is no user."""
    async with unit_of_work(ctx.database) as session:
        user = await find(UserRepository(session))
        if user is None:
            return None
        return user, await issue_token(session, ctx, user, purpose, new_email)


@jobs.job("users.send_verification")
async def send_verification(ctx: JobContext, *, email: str) -> None:
    """A verification link to `email`, if it is a live account's and not yet verified."""

    async def unverified(users: UserRepository) -> User | None:
        user = await _live_user(users, email=email)
        return None if user is None or user.email_verified else user

    found = await _token_for(ctx, unverified, Purpose.VERIFY)
    if found is not None:
        user, token = found
        await send_link(ctx, "verify", user.email, Purpose.VERIFY, token, user=user)


@jobs.job("users.send_password_reset")
async def send_password_reset(ctx: JobContext, *, email: str) -> None:
    """A password-reset link to `email`, if it is a live account's; nothing otherwise."""
    found = await _token_for(ctx, lambda users: _live_user(users, email=email), Purpose.RESET)
    if found is not None:
        user, token = found
        await send_link(ctx, "reset", user.email, Purpose.RESET, token, user=user)


@jobs.job("users.send_email_change")
async def send_email_change(ctx: JobContext, *, user_id: str, new_email: str) -> None:
    """The confirmation link of an address change, to the new address."""

    async def active(users: UserRepository) -> User | None:
        user = await users.one_or_none(users.by_id(uuid.UUID(user_id)))
        return user if user is not None and user.is_active else None

    found = await _token_for(ctx, active, Purpose.CHANGE, new_email)
    if found is not None:
        user, token = found
        values = {"user": user, "new_email": new_email}
        await send_link(ctx, "change_confirm", new_email, Purpose.CHANGE, token, **values)


@jobs.job("users.purge_email_tokens")
async def purge_email_tokens(ctx: JobContext) -> None:
    """Delete expired email tokens and those used over a day ago."""
    async with unit_of_work(ctx.database) as session:
        purged = await EmailTokenRepository(session).purge(utcnow())
    logger.info("purged %d email tokens", purged)


@jobs.job("users.purge_tokens")
async def purge_tokens(ctx: JobContext) -> None:
    """Delete expired refresh tokens, expired sessions and sessions revoked over a day ago."""
    now = utcnow()
    async with unit_of_work(ctx.database) as session:
        tokens = await RefreshTokenRepository(session).purge_expired(now)
        sessions = AuthSessionRepository(session)
        expired = await sessions.purge_expired(now)
        revoked = await sessions.purge_revoked(now - REVOKED_KEPT_FOR)
    logger.info(
        "purged %d refresh tokens, %d expired and %d revoked sessions", tokens, expired, revoked
    )


jobs.schedule(purge_email_tokens, cron=lambda settings: settings.jobs.purge_tokens_cron)
jobs.schedule(purge_tokens, cron=lambda settings: settings.jobs.purge_tokens_cron)
