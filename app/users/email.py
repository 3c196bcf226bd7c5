"""Account emails: the one-time tokens of their links, and their messages.

A token is never stored: the `email_tokens` row keeps its SHA-256, and the token itself is an
HMAC (under AUTH_SECRET_KEY) of the row's id, so a job can rebuild the link on a retry without
the token ever sitting in the queue, a failed-job record or the database. The row's id comes
from the job's task id, so a retried or redelivered job reuses its token instead of minting a
second one; `ctx.once` makes sure each message is sent once.

Requests only enqueue the jobs that send them (`app.users.jobs`, after their commit): looking
the address up happens in the job, so "send me a reset link" answers the same, in the same time,
for any address. Each job sends through `mailer` (`core.platform.mail.Mailer`), the same way as
any templated email of the app; the notice without a link is sent with
`mailer.send_after_commit` directly.
"""

import base64
import hmac
import logging
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.users.models import EmailToken, Purpose, User
from app.users.repository import EmailTokenRepository
from app.users.tokens import secret_hash
from configs import Settings
from core.db import utcnow
from core.platform.jobs import JobContext
from core.platform.logging import redact
from core.platform.mail import Mailer

logger = logging.getLogger("plinth.users.email")

TEMPLATES = Path(__file__).parent / "templates" / "email"
_TOKEN_IDS = uuid.UUID("6f3c1d2e-9a41-4c55-8e0b-5d2f7a1c9b30")  # namespace of job-made ids

mailer = Mailer(TEMPLATES, job="users.send_email")

# -- tokens -----------------------------------------------------------------------------------


def link_token(secret: str, token_id: uuid.UUID) -> str:
    """The token sent in the link of row `token_id`: 43 URL-safe characters."""
    digest = hmac.new(secret.encode(), b"plinth-email-link:" + token_id.bytes, "sha256")
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def _lifetime(settings: Settings, purpose: Purpose) -> timedelta:
    """EMAIL_<PURPOSE>_TOKEN_MINUTES."""
    minutes: int = getattr(settings.email, f"{purpose.value}_token_minutes")
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
            token_hash=secret_hash(link_token(ctx.settings.secret_key, token_id)),
            new_email=new_email,
            expires_at=now + _lifetime(ctx.settings, purpose),
        )
        await tokens.add(token)
    return link_token(ctx.settings.secret_key, token_id)


# -- messages ---------------------------------------------------------------------------------


def link(settings: Settings, purpose: Purpose, token: str) -> str:
    """The base URL (`Settings.email_base_url`) + the purpose's path (EMAIL_<PURPOSE>_PATH) +
    `?token=`."""
    path: str = getattr(settings.email, f"{purpose.value}_path")
    return f"{settings.email_base_url}{path}?token={token}"


def expires_in(settings: Settings, purpose: Purpose) -> str:
    """The token's lifetime in words: `30 minutes`, `48 hours`."""
    minutes = int(_lifetime(settings, purpose).total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"


async def send_link(
    ctx: JobContext, template: str, to: str, purpose: Purpose, token: str, **values: Any
) -> None:
    """Send the message `template` with the link of `token` and its lifetime (through
    `mailer`, once per job run). On the development outbox the message is logged too (the
    link without its token, which stays in the outbox file: logs are no place for one)."""
    url = link(ctx.settings, purpose, token)
    context = {**values, "link": url, "expires": expires_in(ctx.settings, purpose)}
    message = await mailer.deliver(ctx, to=to, template=template, context=context)
    settings = ctx.settings
    if message is None or settings.email.uses_smtp or settings.app.is_production:
        return
    subject = message["Subject"]
    logger.info("%s to %s: %s (the full link is in the outbox message)", subject, to, redact(url))
