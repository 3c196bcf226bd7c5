"""The scheduled maintenance jobs: request-log retention, hard deletion of soft-deleted rows past
a per-table retention (off unless configured), and the users domain's token purge."""

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from app.domains import optional_domains
from app.jobs import registry
from app.users.jobs import purge_tokens
from app.users.models import AuthSession, RefreshToken, User
from configs import Settings
from configs.realtime import RealtimeSettings
from core.db import utcnow
from core.platform.jobs import JobContext
from core.platform.jobs.maintenance import (
    purge_deleted,
    purge_realtime_events,
    purge_request_logs,
)
from core.platform.realtime import RealtimeEvent
from core.platform.requestlog import RequestLog
from tests.helpers import create_user
from tests.jobs_support import job_settings


def context(database: Any, settings: Settings) -> JobContext:
    return JobContext(database, None, settings, job="test", task_id="t")


async def count(database: Any, model: Any) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_request_log_rows_past_the_retention_are_deleted(database: Any) -> None:
    now = utcnow()
    base = {"method": "GET", "route": "/api/v1/x", "status": 200, "duration_ms": 1.0}
    async with database.session() as session:
        ages = [40, 31, 2, 0]
        rows = [{**base, "created_at": now - timedelta(days=days)} for days in ages]
        await session.execute(insert(RequestLog), rows)
        await session.commit()
    await purge_request_logs(context(database, job_settings()))  # default: 30 days
    assert await count(database, RequestLog) == 2


async def test_soft_deleted_rows_are_kept_unless_their_table_opts_in(database: Any) -> None:
    long_ago = utcnow() - timedelta(days=40)
    for email in ("old@example.com", "recent@example.com", "live@example.com"):
        await create_user(database, email)
    async with database.session() as session:
        for user in (await session.execute(select(User))).scalars():
            if user.email != "live@example.com":
                user.deleted_at = long_ago if user.email.startswith("old") else utcnow()
        await session.commit()
    await purge_deleted(context(database, job_settings()))
    assert await count(database, User) == 3  # nothing configured: nothing deleted
    await purge_deleted(context(database, job_settings(purge_deleted_after_days={"users": 30})))
    async with database.session() as session:
        emails = set((await session.execute(select(User.email))).scalars())
    assert emails == {"recent@example.com", "live@example.com"}


async def test_an_unknown_table_fails_the_job_with_its_name(database: Any) -> None:
    settings = job_settings(purge_deleted_after_days={"nope": 3})
    with pytest.raises(ValueError, match="nope"):
        await purge_deleted(context(database, settings))


def test_retentions_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from configs.jobs import JobSettings

    monkeypatch.setenv("JOBS_PURGE_DELETED_AFTER_DAYS", "messages=90, threads=30")
    assert JobSettings.load().purge_deleted_after_days == {"messages": 90, "threads": 30}
    monkeypatch.setenv("JOBS_PURGE_DELETED_AFTER_DAYS", "messages=0")
    with pytest.raises(ValueError, match="at least 1 day"):
        JobSettings.load()


def test_the_app_schedules_its_maintenance() -> None:
    settings = job_settings(purge_deleted_after_days={"messages": 90})
    active = {schedule.job.name: cron for schedule, cron in registry.active_schedules(settings)}
    own = {name: cron for name, cron in active.items() if name.startswith(("platform.", "users."))}
    assert own == {
        "platform.purge_request_logs": "27 * * * *",
        "platform.purge_deleted": "37 3 * * *",
        "users.purge_tokens": "17 * * * *",
        "users.purge_email_tokens": "17 * * * *",
        "platform.purge_realtime_events": "47 * * * *",
        "platform.purge_audit": "23 3 * * *",
        "platform.sweep_files": "13,43 * * * *",
    }
    assert {name.split(".")[0] for name in active} <= {"platform", "users", *optional_domains()}
    off = job_settings(purge_tokens_cron="")
    assert "users.purge_tokens" not in {s.job.name for s, _ in registry.active_schedules(off)}
    assert "platform.purge_deleted" not in {s.job.name for s, _ in registry.active_schedules(off)}


async def test_purge_tokens_deletes_expired_and_long_revoked_sessions(database: Any) -> None:
    user = await create_user(database)
    now = utcnow()
    sessions = {
        "live": AuthSession(user_id=user.id, expires_at=now + timedelta(days=1)),
        "expired": AuthSession(user_id=user.id, expires_at=now - timedelta(seconds=1)),
        "revoked": AuthSession(
            user_id=user.id, expires_at=now + timedelta(days=1), revoked_at=now - timedelta(days=2)
        ),
        "just_revoked": AuthSession(
            user_id=user.id, expires_at=now + timedelta(days=1), revoked_at=now
        ),
    }
    async with database.session() as session:
        session.add_all(sessions.values())
        await session.flush()
        for name, auth_session in sessions.items():
            session.add(
                RefreshToken(
                    session_id=auth_session.id,
                    user_id=user.id,
                    token_hash=name.ljust(64, "x"),
                    expires_at=auth_session.expires_at,
                )
            )
        await session.commit()
    await purge_tokens(context(database, job_settings()))
    async with database.session() as session:
        left = set((await session.execute(select(AuthSession.id))).scalars())
    assert left == {sessions["live"].id, sessions["just_revoked"].id}
    assert await count(database, RefreshToken) == 2


async def test_stream_events_past_the_retention_are_deleted_recent_ones_kept(
    database: Any,
) -> None:
    """Kept events are bounded: older than REALTIME_EVENT_RETENTION_DAYS (7) go, through the
    time-ordered primary key; 0 keeps them all. (The replay answers a `reset` for what went:
    tests/realtime/test_stream.py.)"""
    stream_id = uuid.uuid4()
    now = utcnow()
    async with database.session() as session:
        for seq, days in enumerate([30, 8, 6, 0], start=1):
            ms = int((now - timedelta(days=days)).timestamp() * 1000)
            event_id = uuid.UUID(int=(ms << 80) | (0x7 << 76) | seq)  # a UUIDv7 of that time
            session.add(
                RealtimeEvent(
                    id=event_id, kind="boards", stream_id=stream_id, seq=seq, type="x", frame="{}"
                )
            )
        await session.commit()
    keep_all = dataclasses.replace(
        job_settings(), realtime=RealtimeSettings(event_retention_days=0)
    )
    await purge_realtime_events(context(database, keep_all))
    assert await count(database, RealtimeEvent) == 4
    await purge_realtime_events(context(database, job_settings()))
    async with database.session() as session:
        left = list(
            (await session.execute(select(RealtimeEvent.seq).order_by(RealtimeEvent.seq))).scalars()
        )
    assert left == [3, 4]
