"""Statements over the messenger tables; builders return `Select`s that controllers compose."""

import uuid
from typing import Any

from sqlalchemy import Select, exists
from sqlalchemy.orm import InstrumentedAttribute

from app.messenger.models import Thread, ThreadParticipant
from core.repository import BaseRepository


def is_live_member(thread_id: Any, user_id: uuid.UUID) -> Any:
    """`EXISTS` a live participation of `user_id` in the thread `thread_id` (a column or value)."""
    return exists().where(
        ThreadParticipant.thread_id == thread_id,
        ThreadParticipant.user_id == user_id,
        ThreadParticipant.deleted_at.is_(None),
    )


class ThreadRepository(BaseRepository[Thread]):
    model = Thread
    not_found_detail = "The thread does not exist."

    def keyset_key(self) -> tuple[InstrumentedAttribute[Any], ...]:
        # Most recent activity first; never NULL (see Thread.last_activity_at).
        return (Thread.last_activity_at, Thread.id)


class ParticipantRepository(BaseRepository[ThreadParticipant]):
    model = ThreadParticipant
    not_found_detail = "The user is not a participant of this thread."
    conflict_detail = "The user is already a participant of this thread."

    def of_thread(self, thread_id: uuid.UUID) -> Select[ThreadParticipant]:
        return self.select().where(ThreadParticipant.thread_id == thread_id)

    def membership(self, thread_id: uuid.UUID, user_id: uuid.UUID) -> Select[ThreadParticipant]:
        return self.of_thread(thread_id).where(ThreadParticipant.user_id == user_id)

    async def member_ids(self, thread_id: uuid.UUID) -> set[uuid.UUID]:
        """The ids of the thread's live participants."""
        stmt = self.of_thread(thread_id).with_only_columns(ThreadParticipant.user_id)
        return set((await self.session.scalars(stmt)).all())
