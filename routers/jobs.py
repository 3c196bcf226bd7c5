"""/admin/jobs: the job queue and the jobs given up on. Included with Gate.ADMIN."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel

from core.deps import SessionDep
from core.fields import Text
from core.openapi import operation_ids, problem_responses
from core.pagination import CursorCodec, CursorPage, CursorParams, cursor_params
from core.platform.jobs import FailedJob, JobQueue
from core.platform.jobs.admin import (
    FailedJobRead,
    JobsStatus,
    forget_failed_job,
    get_failed_job,
    page_failed_jobs,
    retry_failed_job,
)
from core.routing import read_only

router = APIRouter(
    prefix="/admin/jobs", tags=["admin"], generate_unique_id_function=operation_ids("admin_jobs")
)


class Enqueued(BaseModel):
    """The task id a retried job was sent under."""

    task_id: str


def _queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.jobs
    return queue


Queue = Annotated[JobQueue, Depends(_queue)]


async def _failed(session: SessionDep, failed_id: uuid.UUID) -> FailedJob:
    return await get_failed_job(session, failed_id)


Failed = Annotated[FailedJob, Depends(_failed)]


@router.get("", response_model=JobsStatus)
async def queue_status(queue: Queue) -> JobsStatus:
    """Jobs waiting or running, and workers with a current heartbeat."""
    return JobsStatus(
        queue_depth=await queue.depth(),
        workers_alive=await queue.workers_alive(),
        in_process=queue.in_process,
    )


@router.get("/failed", response_model=CursorPage[FailedJobRead])
@read_only
async def list_failed(
    request: Request,
    session: SessionDep,
    page: Annotated[CursorParams, Depends(cursor_params)],
    job: Annotated[Text | None, Query(max_length=200, description="One job's name")] = None,
) -> CursorPage[FailedJobRead]:
    """Jobs given up on after their last attempt, newest first, with error and attempts."""
    codec = CursorCodec(request.app.state.settings.secret_key)
    return await page_failed_jobs(
        session, job=job, limit=page.limit, cursor=page.cursor, codec=codec
    )


@router.get("/failed/{failed_id}", response_model=FailedJobRead)
@read_only
async def read_failed(failed: Failed) -> FailedJob:
    """One failed job."""
    return failed


@router.post(
    "/failed/{failed_id}/retry",
    response_model=Enqueued,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(409),
)
async def retry_failed(session: SessionDep, failed: Failed) -> Enqueued:
    """Send the job again with its arguments (fresh attempts) once the record is dropped."""
    return Enqueued(task_id=await retry_failed_job(session, failed))


@router.delete("/failed/{failed_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_failed(session: SessionDep, failed: Failed) -> None:
    """Forget a failed job."""
    await forget_failed_job(session, failed)
