"""The audit log in core: one controller attribute records create, update, delete and restore,
with the actor (a user, an API key, a scheduled job), the changed fields with secrets redacted
and the request id, in the change's own transaction; the retention job purges old entries."""

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from configs import Settings
from configs.audit import AuditSettings
from core import audit
from core.audit import REDACTED, Audit, AuditEntry
from core.context import request_id_var
from core.db import utcnow
from core.platform.jobs import JobContext
from core.platform.jobs.maintenance import purge_audit
from core.platform.jobs.registry import Job
from core.platform.jobs.runner import run_delivery
from core.security import Principal
from core.service import unit_of_work
from tests.core.models import WidgetController, WidgetCreate, WidgetUpdate
from tests.jobs_support import job_settings


class AuditedWidgets(WidgetController):
    audit = Audit(entity="widget", redact={"size"})


ALICE = Principal(id=uuid.uuid4(), scopes=frozenset({"regular"}))
ALICES_KEY = dataclasses.replace(ALICE, api_key_id=uuid.uuid4())


async def entries(database: Any) -> list[AuditEntry]:
    async with database.session() as session:
        found = await session.scalars(select(AuditEntry).order_by(AuditEntry.created_at))
        return list(found)


async def test_every_write_is_recorded_once_with_its_actor_and_changes(database: Any) -> None:
    token = request_id_var.set("req-42")
    try:
        async with unit_of_work(database) as session:
            widget = await AuditedWidgets(session, ALICE).create(WidgetCreate(name="a", size=3))
        async with unit_of_work(database) as session:
            await AuditedWidgets(session, ALICE).update(widget.id, WidgetUpdate(name="b"))
        async with unit_of_work(database) as session:
            await AuditedWidgets(session, ALICES_KEY).delete(widget.id)
        async with unit_of_work(database) as session:
            await AuditedWidgets(session, ALICE).restore(widget.id)
    finally:
        request_id_var.reset(token)

    found = await entries(database)
    assert [e.action for e in found] == ["create", "update", "delete", "restore"]
    assert {e.entity_type for e in found} == {"widget"}
    assert {e.entity_id for e in found} == {widget.id}
    assert {e.request_id for e in found} == {"req-42"}
    assert [e.actor for e in found] == [
        f"user:{ALICE.id}",
        f"user:{ALICE.id}",
        f"api_key:{ALICES_KEY.api_key_id}",
        f"user:{ALICE.id}",
    ]
    assert {e.user_id for e in found} == {ALICE.id}  # the person behind the key too
    created, updated = found[0].changes, found[1].changes
    assert created["name"] == "a" and created["size"] == REDACTED  # declared secret
    assert updated == {"name": {"before": "a", "after": "b"}}


async def test_an_unaudited_controller_writes_no_entry(database: Any) -> None:
    async with unit_of_work(database) as session:
        await WidgetController(session, ALICE).create(WidgetCreate(name="quiet"))
    assert await entries(database) == []


async def test_a_change_whose_commit_fails_leaves_no_entry(database: Any) -> None:
    def fail(_: Any) -> None:
        raise RuntimeError("the commit fails")

    with pytest.raises(RuntimeError, match="the commit fails"):
        async with unit_of_work(database) as session:
            event.listen(session.sync_session, "before_commit", fail)
            await AuditedWidgets(session, ALICE).create(WidgetCreate(name="doomed"))
            assert [type(row) for row in session.new] == [AuditEntry]  # the commit writes it
    assert await entries(database) == []


async def test_a_scheduled_job_is_the_system_actor(database: Any) -> None:
    async def make_widget(ctx: JobContext) -> None:
        async with unit_of_work(ctx.database) as session:
            await AuditedWidgets(session, None).create(WidgetCreate(name="nightly"))

    settings = job_settings()
    ctx = JobContext(database, None, settings, job="tests.make_widget", task_id="t")
    job = Job("tests.make_widget", make_widget)
    assert await run_delivery(job, ctx, {}, settings.jobs, "test")
    [entry] = await entries(database)
    assert (entry.actor, entry.user_id) == ("system:tests.make_widget", None)
    assert entry.action == "create"


async def test_explicit_events_and_secret_looking_fields_are_redacted(database: Any) -> None:
    async with unit_of_work(database) as session:
        bound = AuditedWidgets(session, ALICE)
        changes = {"hashed_password": "x", "api_token": "y", "role": "admin"}
        audit.record(bound, "promote", entity="member", changes=Audit().redacted(changes))
    [entry] = await entries(database)
    assert entry.action == "promote"
    assert entry.changes == {"hashed_password": REDACTED, "api_token": REDACTED, "role": "admin"}


def retention(days: int) -> Settings:
    return dataclasses.replace(job_settings(), audit=AuditSettings(retention_days=days))


async def test_the_retention_job_purges_old_entries_and_records_it(database: Any) -> None:
    async with unit_of_work(database) as session:
        for age in (400, 366, 10):
            entry = audit.add_entry(session, ALICE, "create", entity="widget")
            entry.created_at = utcnow() - timedelta(days=age)
    settings = retention(365)
    ctx = JobContext(database, None, settings, job=purge_audit.name, task_id="t")
    assert await run_delivery(purge_audit, ctx, {}, settings.jobs, "test")
    found = await entries(database)
    assert [e.action for e in found] == ["create", "purge"]
    assert found[1].actor == "system:platform.purge_audit"
    assert found[1].changes["deleted"] == 2


async def test_retention_zero_keeps_every_entry(database: Any) -> None:
    async with unit_of_work(database) as session:
        entry = audit.add_entry(session, ALICE, "create", entity="widget")
        entry.created_at = utcnow() - timedelta(days=4000)
    settings = retention(0)
    ctx = JobContext(database, None, settings, job=purge_audit.name, task_id="t")
    assert await run_delivery(purge_audit, ctx, {}, settings.jobs, "test")
    assert len(await entries(database)) == 1
