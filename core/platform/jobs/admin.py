"""Failed jobs for operators: the admin API's schema and keyset page (newest first), and the
two writes, retry and forget, that the API and the admin console both call."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from core.pagination import CursorCodec, CursorPage, cursor_binding
from core.platform.jobs.lifespan import enqueue_after_commit
from core.platform.jobs.models import FailedJob
from core.platform.jobs.queue import current_queue
from core.service import UnitOfWork


class FailedJobRead(BaseModel):
    """One job given up on, as admins see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    job: str
    task_id: str
    arguments: dict[str, Any]
    error: str
    attempts: int
    worker: str


class JobsStatus(BaseModel):
    """The queue at a glance."""

    queue_depth: int
    workers_alive: int
    in_process: bool


async def page_failed_jobs(
    session: AsyncSession,
    *,
    job: str | None,
    limit: int,
    cursor: str | None,
    codec: CursorCodec,
) -> CursorPage[FailedJobRead]:
    """Newest first over `(created_at, id)`, optionally one job's failures only; a cursor of
    another job's failures is a 400."""
    binding = cursor_binding("jobs.failed", filters={"job": job})
    stmt = select(FailedJob)
    if job is not None:
        stmt = stmt.where(FailedJob.job == job)
    if cursor is not None:
        created_at, id_ = codec.decode(cursor, [datetime, uuid.UUID], binding=binding)
        stmt = stmt.where(tuple_(FailedJob.created_at, FailedJob.id) < tuple_(created_at, id_))
    stmt = stmt.order_by(FailedJob.created_at.desc(), FailedJob.id.desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    items = rows[:limit]
    has_more = len(rows) > limit
    last = items[-1] if has_more else None
    return CursorPage[FailedJobRead](
        items=[FailedJobRead.model_validate(row) for row in items],
        next_cursor=codec.encode([last.created_at, last.id], binding=binding) if last else None,
        has_more=has_more,
    )


async def get_failed_job(session: AsyncSession, failed_id: uuid.UUID) -> FailedJob:
    """One failed job; 404 when there is none."""
    row = await session.get(FailedJob, failed_id)
    if row is None:
        raise NotFound("The failed job does not exist.")
    return row


async def retry_failed_job(session: AsyncSession, failed: FailedJob) -> str:
    """Send the job again with its arguments (fresh attempts) once the record is dropped, in
    the session's unit of work; returns the new task id. 409 when no job of that name is
    registered any more."""
    jobs = current_queue().registry.jobs
    if failed.job not in jobs:
        raise Conflict(f"No job named {failed.job!r} is registered any more.")
    task_id = uuid.uuid4().hex
    enqueue_after_commit(
        UnitOfWork.of(session), jobs[failed.job], task_id=task_id, **failed.arguments
    )
    await session.delete(failed)
    return task_id


async def forget_failed_job(session: AsyncSession, failed: FailedJob) -> None:
    """Delete the record of a failed job."""
    await session.delete(failed)
