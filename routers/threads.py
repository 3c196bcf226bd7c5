"""Threads, their participants and their messages. Only members see a thread: to anyone else
every route here answers 404, exactly as for an id that does not exist."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import AwareDatetime

from app.messenger.schemas import (
    MessageCreate,
    MessageRead,
    ParticipantsAdd,
    ThreadCreate,
    ThreadRead,
    ThreadUpdate,
)
from app.messenger.service import MessengerService
from core.deps import provide
from core.pagination import CursorPage, CursorParams, cursor_params

router = APIRouter(prefix="/threads", tags=["threads"])

Messenger = Annotated[MessengerService, Depends(provide(MessengerService))]
Paging = Annotated[CursorParams, Depends(cursor_params)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_thread(data: ThreadCreate, messenger: Messenger) -> ThreadRead:
    """Start a thread; you are its creator and always a participant."""
    return ThreadRead.model_validate(await messenger.create_thread(data))


@router.get("")
async def list_threads(messenger: Messenger, paging: Paging) -> CursorPage[ThreadRead]:
    """Your threads, most recent activity first."""
    page = await messenger.threads.list_after(cursor=paging.cursor, limit=paging.limit)
    return CursorPage[ThreadRead].model_validate(page)


@router.get("/{thread_id}")
async def get_thread(thread_id: uuid.UUID, messenger: Messenger) -> ThreadRead:
    return ThreadRead.model_validate(await messenger.threads.get(thread_id))


@router.patch("/{thread_id}")
async def rename_thread(
    thread_id: uuid.UUID, data: ThreadUpdate, messenger: Messenger
) -> ThreadRead:
    """Rename (creator only)."""
    return ThreadRead.model_validate(await messenger.rename_thread(thread_id, data))


@router.delete("/{thread_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_thread(thread_id: uuid.UUID, messenger: Messenger) -> None:
    """Delete (creator only; soft)."""
    await messenger.delete_thread(thread_id)


@router.post("/{thread_id}/participants")
async def add_participants(
    thread_id: uuid.UUID, data: ParticipantsAdd, messenger: Messenger
) -> ThreadRead:
    """Add active users (creator or admin); users already in the thread are skipped."""
    return ThreadRead.model_validate(await messenger.add_participants(thread_id, data))


@router.delete("/{thread_id}/participants/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_participant(
    thread_id: uuid.UUID, user_id: uuid.UUID, messenger: Messenger
) -> None:
    """Leave (your own id, any member) or remove someone (creator or admin)."""
    await messenger.remove_participant(thread_id, user_id)


@router.post("/{thread_id}/messages", status_code=status.HTTP_201_CREATED)
async def send_message(
    thread_id: uuid.UUID, data: MessageCreate, messenger: Messenger
) -> MessageRead:
    return MessageRead.model_validate(await messenger.send_message(thread_id, data))


@router.get("/{thread_id}/messages")
async def list_messages(
    thread_id: uuid.UUID,
    messenger: Messenger,
    paging: Paging,
    since: Annotated[
        AwareDatetime | None,
        Query(description="Only messages created at or after this time (with a time zone)."),
    ] = None,
) -> CursorPage[MessageRead]:
    """The thread's messages, newest first."""
    page = await messenger.list_messages(
        thread_id, since=since, cursor=paging.cursor, limit=paging.limit
    )
    return CursorPage[MessageRead].model_validate(page)
