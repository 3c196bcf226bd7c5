"""Account emails: their one-time tokens, their messages and the jobs that send them.

A token is never stored: the `email_tokens` row keeps its SHA-256, and the token itself is an
HMAC (under AUTH_SECRET_KEY) of the row's id, so a job can rebuild the link on a retry without
the token ever sitting in the queue, a failed-job record or the database. The row's id comes
from the job's task id, so a retried or redelivered job reuses its token instead of minting a
second one; `ctx.once` makes sure each message is sent once.

Requests only enqueue these jobs (after their commit): looking the address up happens in the
job, so "send me a reset link" answers the same, in the same time, for any address. Each job
sends through `mailer` (`core.platform.mail.Mailer`), the same way as any templated email of
the app; the notice without a link is sent with `mailer.send_after_commit` directly.
"""

import base64
import hashlib
import hmac
import logging
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.users.models import EmailToken, User
from app.users.repository import UserRepository
from configs import Settings
from core.db import utcnow
from core.platform.jobs import JobContext, JobRegistry
from core.platform.mail import Mailer
from core.repository import BaseRepository
from core.service import unit_of_work

logger = logging.getLogger("plinth.users.email")

TEMPLATES = Path(__file__).parent / "templates" / "email"
USED_KEPT_FOR = timedelta(days=1)  # a consumed token's row stays a day, for support
_TOKEN_IDS = uuid.UUID("6f3c1d2e-9a41-4c55-8e0b-5d2f7a1c9b30")  # namespace of job-made ids


class Purpose(StrEnum):
    """What a token lets its holder do."""

    VERIFY = "verify"
    RESET = "reset"
    CHANGE = "change"


# -- tokens -----------------------------------------------------------------------------------


def link_token(secret: str, token_id: uuid.UUID) -> str:
    """The token sent in the link of row `token_id`: 43 URL-safe characters."""
    digest = hmac.new(secret.encode(), b"plinth-email-link:" + token_id.bytes, "sha256")
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """What is stored for a token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


class EmailTokenRepository(BaseRepository[EmailToken]):
    model = EmailToken

    def by_hash(self, hashed: str, purpose: Purpose) -> Select[EmailToken]:
        return self.select().where(EmailToken.token_hash == hashed, EmailToken.purpose == purpose)

    async def claim(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Consume an unused, unexpired token; True for exactly one concurrent caller."""
        claimed = await self.execute_write(
            update(EmailToken)
            .where(
                EmailToken.id == token_id,
                EmailToken.used_at.is_(None),
                EmailToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return claimed == 1

    async def supersede(self, user_id: uuid.UUID, purposes: list[Purpose], now: datetime) -> None:
        """Mark every open token of the user with one of `purposes` used: only the newest
        link works, and a password reset or address change kills the older ones."""
        await self.session.execute(
            update(EmailToken)
            .where(
                EmailToken.user_id == user_id,
                EmailToken.purpose.in_(purposes),
                EmailToken.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )

    async def purge(self, now: datetime) -> int:
        """Delete expired tokens and those used over a day ago."""
        return await self.execute_write(
            delete(EmailToken).where(
                or_(EmailToken.expires_at <= now, EmailToken.used_at <= now - USED_KEPT_FOR)
            )
        )


def _lifetime(settings: Settings, purpose: Purpose) -> timedelta:
    email = settings.email
    minutes = {
        Purpose.VERIFY: email.verify_token_minutes,
        Purpose.RESET: email.reset_token_minutes,
        Purpose.CHANGE: email.change_token_minutes,
    }[purpose]
    return timedelta(minutes=minutes)


async def issue_token(
    session: AsyncSession,
    ctx: JobContext,
    user: User,
    purpose: Purpose,
    new_email: str | None = None,
) -> str:
    """The token of this job run: made on the first attempt (superseding the user's older ones
    of the same purpose), found again on a retry."""
    token_id = uuid.uuid5(_TOKEN_IDS, f"{ctx.job}:{ctx.task_id}")
    tokens = EmailTokenRepository(session)
    if await tokens.one_or_none(tokens.by_id(token_id)) is None:
        now = utcnow()
        await tokens.supersede(user.id, [purpose], now)
        token = EmailToken(
            id=token_id,
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(link_token(ctx.settings.secret_key, token_id)),
            new_email=new_email,
            expires_at=now + _lifetime(ctx.settings, purpose),
        )
        await tokens.add(token)
    return link_token(ctx.settings.secret_key, token_id)


# -- messages ---------------------------------------------------------------------------------


def link(settings: Settings, purpose: Purpose, token: str) -> str:
    """The base URL (`Settings.email_base_url`) + the purpose's path + `?token=`."""
    email = settings.email
    path = {
        Purpose.VERIFY: email.verify_path,
        Purpose.RESET: email.reset_path,
        Purpose.CHANGE: email.change_path,
    }[purpose]
    return f"{settings.email_base_url}{path}?token={token}"


def expires_in(settings: Settings, purpose: Purpose) -> str:
    """The token's lifetime in words: `30 minutes`, `48 hours`."""
    minutes = int(_lifetime(settings, purpose).total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"


mailer = Mailer(TEMPLATES, job="users.send_email")


async def send_link(ctx: JobContext, template: str, to: str, **values: Any) -> None:
    """Send the message `template` (through `mailer`, once per job run). On the development
    outbox its link is logged too, so a developer can follow it without a mail client."""
    message = await mailer.deliver(ctx, to=to, template=template, context=values)
    settings = ctx.settings
    if message is None or settings.email.uses_smtp or settings.app.is_production:
        return
    logger.info("%s to %s: open %s", message["Subject"], to, values["link"])


# -- jobs -------------------------------------------------------------------------------------

jobs = JobRegistry()
jobs.add(mailer.job)  # the users domain's plain templated emails (the address-change notice)


async def _live_user(session: AsyncSession, email: str) -> User | None:
    users = UserRepository(session)
    user = await users.one_or_none(users.by_email(email))
    return user if user is not None and user.is_active else None


@jobs.job("users.send_verification")
async def send_verification(ctx: JobContext, *, email: str) -> None:
    """A verification link to `email`, if it is a live account's and not yet verified."""
    async with unit_of_work(ctx.database) as session:
        user = await _live_user(session, email)
        if user is None or user.email_verified:
            return
        token = await issue_token(session, ctx, user, Purpose.VERIFY)
    verify = link(ctx.settings, Purpose.VERIFY, token)
    expires = expires_in(ctx.settings, Purpose.VERIFY)
    await send_link(ctx, "verify", user.email, user=user, link=verify, expires=expires)


@jobs.job("users.send_password_reset")
async def send_password_reset(ctx: JobContext, *, email: str) -> None:
    """A password-reset link to `email`, if it is a live account's; nothing otherwise."""
    async with unit_of_work(ctx.database) as session:
        user = await _live_user(session, email)
        if user is None:
            return
        token = await issue_token(session, ctx, user, Purpose.RESET)
    reset = link(ctx.settings, Purpose.RESET, token)
    expires = expires_in(ctx.settings, Purpose.RESET)
    await send_link(ctx, "reset", user.email, user=user, link=reset, expires=expires)


@jobs.job("users.send_email_change")
async def send_email_change(ctx: JobContext, *, user_id: str, new_email: str) -> None:
    """The confirmation link of an address change, to the new address."""
    async with unit_of_work(ctx.database) as session:
        users = UserRepository(session)
        user = await users.one_or_none(users.by_id(uuid.UUID(user_id)))
        if user is None or not user.is_active:
            return
        token = await issue_token(session, ctx, user, Purpose.CHANGE, new_email)
    confirm = link(ctx.settings, Purpose.CHANGE, token)
    expires = expires_in(ctx.settings, Purpose.CHANGE)
    values = {"user": user, "link": confirm, "expires": expires, "new_email": new_email}
    await send_link(ctx, "change_confirm", new_email, **values)


@jobs.job("users.purge_email_tokens")
async def purge_email_tokens(ctx: JobContext) -> None:
    """Delete expired email tokens and those used over a day ago."""
    async with unit_of_work(ctx.database) as session:
        purged = await EmailTokenRepository(session).purge(utcnow())
    logger.info("purged %d email tokens", purged)


jobs.schedule(purge_email_tokens, cron=lambda settings: settings.jobs.purge_tokens_cron)
