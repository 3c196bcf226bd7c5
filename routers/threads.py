"""Threads and their participants. Only members see a thread: to anyone else every route here
answers 404, exactly as for an id that does not exist."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, status

from app.messenger.controller import ThreadController
from app.messenger.schemas import ParticipantsAdd, ThreadRead
from core.crud import CrudRouter
from core.deps import provide
from core.openapi import problem_responses

router = CrudRouter(
    ThreadController, ThreadRead, prefix="/threads", tags=["threads"], exclude=["restore"]
)
"""List (yours, most recent activity first), create (you are the creator and a participant),
read, rename and delete (creator only; soft)."""

Threads = Annotated[ThreadController, Depends(provide(ThreadController))]


@router.post(
    "/{thread_id}/participants",
    response_model=ThreadRead,
    responses=problem_responses(403, 404, 422),
)
async def add_participants(thread_id: uuid.UUID, data: ParticipantsAdd, threads: Threads) -> Any:
    """Add active users (creator or admin); users already in the thread are skipped."""
    return await threads.add_participants(thread_id, data)


@router.delete(
    "/{thread_id}/participants/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404),
)
async def remove_participant(thread_id: uuid.UUID, user_id: uuid.UUID, threads: Threads) -> None:
    """Leave (your own id, any member) or remove someone (creator or admin)."""
    await threads.remove_participant(thread_id, user_id)
