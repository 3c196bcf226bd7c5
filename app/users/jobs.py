"""Scheduled jobs of the users domain."""

import logging
from datetime import timedelta

from app.users.repository import AuthSessionRepository, RefreshTokenRepository
from core.db import utcnow
from core.platform.jobs import JobContext, JobRegistry
from core.service import unit_of_work

logger = logging.getLogger("plinth.users.jobs")

REVOKED_KEPT_FOR = timedelta(days=1)  # a revoked session stays visible a day, for support

jobs = JobRegistry()


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


jobs.schedule(purge_tokens, cron=lambda settings: settings.jobs.purge_tokens_cron)
