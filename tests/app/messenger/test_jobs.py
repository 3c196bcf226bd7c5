"""The messenger's scheduled job: the kept events' retention."""

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.jobs import registry
from app.messenger.jobs import purge_thread_events
from app.messenger.models import Thread, ThreadEvent
from configs.realtime import RealtimeSettings
from core.db import utcnow
from tests.core.test_jobs_maintenance import context, count
from tests.helpers import create_user
from tests.jobs_support import job_settings


def test_the_app_schedules_the_retention() -> None:
    schedules = registry.active_schedules(job_settings())
    assert {s.job.name: cron for s, cron in schedules}[
        "messenger.purge_thread_events"
    ] == "47 * * * *"


async def test_thread_events_past_the_retention_are_deleted_recent_ones_kept(
    database: Any,
) -> None:
    """Kept events are bounded: older than REALTIME_EVENT_RETENTION_DAYS (7) go, through the
    time-ordered primary key; 0 keeps them all. (The replay answers a `reset` for what went:
    tests/realtime/test_stream.py.)"""
    creator = await create_user(database, "creator@example.com")
    now = utcnow()
    async with database.session() as session:
        thread = Thread(title="t", created_by=creator.id)
        session.add(thread)
        await session.flush()
        for seq, days in enumerate([30, 8, 6, 0], start=1):
            ms = int((now - timedelta(days=days)).timestamp() * 1000)
            event_id = uuid.UUID(int=(ms << 80) | (0x7 << 76) | seq)  # a UUIDv7 of that time
            session.add(
                ThreadEvent(id=event_id, thread_id=thread.id, seq=seq, type="x", frame="{}")
            )
        await session.commit()
    keep_all = dataclasses.replace(
        job_settings(), realtime=RealtimeSettings(event_retention_days=0)
    )
    await purge_thread_events(context(database, keep_all))
    assert await count(database, ThreadEvent) == 4
    await purge_thread_events(context(database, job_settings()))
    async with database.session() as session:
        left = list(
            (await session.execute(select(ThreadEvent.seq).order_by(ThreadEvent.seq))).scalars()
        )
    assert left == [3, 4]
