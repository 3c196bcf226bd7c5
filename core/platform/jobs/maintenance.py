"""The platform's own scheduled jobs: request-log retention, the kept stream events' retention,
the audit log's retention, hard deletion of soft-deleted rows past a per-table retention and the
files' sweep. Include them in the project's registry:

    registry = JobRegistry().include(maintenance)
"""

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from core import audit
from core.db import Base, CommonBase, utcnow
from core.files.housekeeping import sweep_files
from core.platform.jobs.registry import JobContext, JobRegistry
from core.platform.realtime.streams import purge_events
from core.platform.requestlog.models import RequestLog
from core.platform.storage import open_storage
from core.service import unit_of_work

logger = logging.getLogger("plinth.jobs.maintenance")

maintenance = JobRegistry()


@maintenance.job("platform.purge_request_logs")
async def purge_request_logs(ctx: JobContext) -> None:
    """Delete request-log rows older than REQUEST_LOG_RETENTION_DAYS (0 keeps them all)."""
    days = ctx.settings.request_log.retention_days
    if days <= 0:
        return
    cutoff = utcnow() - timedelta(days=days)
    async with unit_of_work(ctx.database) as session:
        result: Any = await session.execute(
            delete(RequestLog).where(RequestLog.created_at < cutoff)
        )
    logger.info("deleted %d request-log rows older than %d days", result.rowcount, days)


@maintenance.job("platform.purge_realtime_events")
async def purge_realtime_events(ctx: JobContext) -> None:
    """Delete kept stream events older than REALTIME_EVENT_RETENTION_DAYS (0 keeps them all).
    A client resuming from before the cut gets a `reset` frame (reload over REST) instead of a
    gap."""
    days = ctx.settings.realtime.event_retention_days
    if days <= 0:
        return
    async with unit_of_work(ctx.database) as session:
        deleted = await purge_events(session, utcnow() - timedelta(days=days))
    logger.info("deleted %d stream events older than %d days", deleted, days)


@maintenance.job("platform.purge_audit")
async def purge_audit(ctx: JobContext) -> None:
    """Delete audit entries older than AUDIT_RETENTION_DAYS (0 keeps them all), and record the
    purge itself in the log."""
    days = ctx.settings.audit.retention_days
    if days <= 0:
        return
    cutoff = utcnow() - timedelta(days=days)
    async with unit_of_work(ctx.database) as session:
        deleted = await audit.purge_before(session, cutoff)
        if deleted:
            changes = {"deleted": deleted, "before": cutoff}
            audit.add_entry(session, None, "purge", entity="audit_entries", changes=changes)
    logger.info("deleted %d audit entries older than %d days", deleted, days)


def soft_deleting_models() -> dict[str, type[CommonBase]]:
    """Every mapped `CommonBase` model (they all soft-delete), by table name."""
    models: dict[str, type[CommonBase]] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, CommonBase) and isinstance(getattr(cls, "__tablename__", None), str):
            models[cls.__tablename__] = cls
    return models


@maintenance.job("platform.purge_deleted")
async def purge_deleted(ctx: JobContext) -> None:
    """Hard-delete rows soft-deleted longer ago than their table's retention in
    JOBS_PURGE_DELETED_AFTER_DAYS (`messages=90,threads=30`); tables not listed keep theirs."""
    retentions = ctx.settings.jobs.purge_deleted_after_days
    models = soft_deleting_models()
    unknown = sorted(set(retentions) - set(models))
    if unknown:
        raise ValueError(f"JOBS_PURGE_DELETED_AFTER_DAYS names unknown tables: {unknown}")
    async with unit_of_work(ctx.database) as session:
        for table, days in retentions.items():
            model = models[table]
            cutoff = utcnow() - timedelta(days=days)
            result: Any = await session.execute(delete(model).where(model.deleted_at < cutoff))
            logger.info(
                "hard-deleted %d rows of %s soft-deleted before %s", result.rowcount, table, cutoff
            )


@maintenance.job("platform.sweep_files")
async def sweep_stored_files(ctx: JobContext) -> None:
    """Delete the bytes, then the rows, of uploads given up, of files whose row was
    hard-deleted and of deleted files whose bytes outlived them (core/files/housekeeping.py).
    A store that is down fails the run (retried) and loses no row."""
    storage = await open_storage(ctx.settings)
    try:
        result = await sweep_files(ctx.database, storage)
    finally:
        await storage.close()
    logger.info(
        "swept %d given-up uploads, %d orphaned files, %d deleted files",
        result.given_up,
        result.orphaned,
        result.deleted,
    )


maintenance.schedule(purge_request_logs, cron=lambda s: s.jobs.purge_request_logs_cron)
maintenance.schedule(purge_realtime_events, cron=lambda s: s.realtime.purge_events_cron)
maintenance.schedule(purge_audit, cron=lambda s: s.audit.purge_cron)
maintenance.schedule(
    purge_deleted,
    cron=lambda s: s.jobs.purge_deleted_cron if s.jobs.purge_deleted_after_days else "",
)
maintenance.schedule(sweep_stored_files, cron=lambda s: s.storage.sweep_cron)
