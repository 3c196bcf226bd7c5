"""Threads and their participants. Only members see a thread: to anyone else every route here
answers 404, exactly as for an id that does not exist."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, status

from app.messenger.controller import ThreadController
from app.messenger.schemas import EventPage, ParticipantsAdd, ReadMarker, ReadState, ThreadRead
from core.crud import CrudRouter
from core.deps import provide
from core.fields import Position
from core.openapi import problem_responses
from core.routing import read_only

router = CrudRouter(
    ThreadController, ThreadRead, prefix="/threads", tags=["threads"], exclude=["restore"]
)
"""List (yours, most recent activity first), create (you are the creator and a participant),
read, rename and delete (creator only; soft)."""

Threads = Annotated[ThreadController, Depends(provide(ThreadController))]


@router.post(
    "/{thread_id}/participants",
    response_model=ThreadRead,
    responses=problem_responses(403, 409),
)
async def add_participants(thread_id: uuid.UUID, data: ParticipantsAdd, threads: Threads) -> Any:
    """Add active users (creator or admin); users already in the thread are skipped. 409 when
    the thread would have more than its maximum of participants."""
    return await threads.add_participants(thread_id, data)


@router.delete(
    "/{thread_id}/participants/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403),
)
async def remove_participant(thread_id: uuid.UUID, user_id: uuid.UUID, threads: Threads) -> None:
    """Leave (your own id, any member) or remove someone (creator or admin)."""
    await threads.remove_participant(thread_id, user_id)


@router.get("/{thread_id}/events", response_model=EventPage)
@read_only
async def events(
    thread_id: uuid.UUID,
    threads: Threads,
    after: Annotated[Position, Query(description="The last seq you saw.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> Any:
    """The thread's events after `after`, oldest first: how a client fills a gap in `seq`
    (docs/reference/websocket.md)."""
    return await threads.events_after(thread_id, after, limit)


@router.post("/{thread_id}/read", response_model=ReadState)
async def mark_read(
    thread_id: uuid.UUID, threads: Threads, marker: ReadMarker | None = None
) -> Any:
    """Move your read marker forward (to `seq`, or to the latest event); members get a
    `thread.read` event. Unread counts appear in `GET /threads`."""
    return await threads.mark_read(thread_id, marker or ReadMarker())
