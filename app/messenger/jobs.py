"""Scheduled jobs of the messenger: the kept events' retention."""

import logging
from datetime import timedelta

from app.messenger.events import purge_events
from core.db import utcnow
from core.platform.jobs import JobContext, JobRegistry
from core.service import unit_of_work

logger = logging.getLogger("plinth.messenger.jobs")

jobs = JobRegistry()


@jobs.job("messenger.purge_thread_events")
async def purge_thread_events(ctx: JobContext) -> None:
    """Delete kept events older than REALTIME_EVENT_RETENTION_DAYS (0 keeps them all). A client
    resuming from before the cut gets a `reset` frame (reload over REST) instead of a gap."""
    days = ctx.settings.realtime.event_retention_days
    if days <= 0:
        return
    async with unit_of_work(ctx.database) as session:
        deleted = await purge_events(session, utcnow() - timedelta(days=days))
    logger.info("deleted %d thread events older than %d days", deleted, days)


jobs.schedule(purge_thread_events, cron=lambda s: s.realtime.purge_events_cron)
