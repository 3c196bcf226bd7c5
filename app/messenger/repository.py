"""Statements over the messenger tables; builders return `Select`s that controllers compose."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from app.messenger.models import Message, Thread, ThreadParticipant
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

    async def unread_counts(
        self, thread_ids: Sequence[uuid.UUID], user_id: uuid.UUID, cap: int
    ) -> dict[uuid.UUID, int]:
        """Live messages after the user's read marker in each thread, counted up to `cap`:
        one query for the page, each count one range of `ix_messages_thread_seq_live` that
        stops after `cap` rows, however long the thread's history."""
        p = ThreadParticipant
        after_marker = (
            select(Message.id)
            .where(
                Message.thread_id == p.thread_id,
                Message.seq > p.last_read_seq,
                Message.deleted_at.is_(None),
            )
            .limit(cap)
            .correlate(p)  # the participant row of the outer query, not a join of its own
            .subquery()
        )
        count = select(func.count()).select_from(after_marker).scalar_subquery()
        stmt = select(p.thread_id, count).where(
            p.user_id == user_id, p.thread_id.in_(thread_ids), p.deleted_at.is_(None)
        )
        return {thread_id: int(n) for thread_id, n in (await self.session.execute(stmt)).all()}


class ParticipantRepository(BaseRepository[ThreadParticipant]):
    model = ThreadParticipant
    not_found_detail = "The user is not a participant of this thread."
    conflict_detail = "The user is already a participant of this thread."

    def of_thread(self, thread_id: uuid.UUID) -> Select[ThreadParticipant]:
        return self.select().where(ThreadParticipant.thread_id == thread_id)

    def membership(self, thread_id: uuid.UUID, user_id: uuid.UUID) -> Select[ThreadParticipant]:
        return self.of_thread(thread_id).where(ThreadParticipant.user_id == user_id)

    async def mark_read(self, thread_id: uuid.UUID, user_id: uuid.UUID, seq: int) -> bool:
        """Move the user's read marker forward to `seq` (never back); True if it moved."""
        result = await self.session.execute(
            update(ThreadParticipant)
            .where(
                ThreadParticipant.thread_id == thread_id,
                ThreadParticipant.user_id == user_id,
                ThreadParticipant.deleted_at.is_(None),
                ThreadParticipant.last_read_seq < seq,
            )
            .values(last_read_seq=seq)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def member_ids(self, thread_id: uuid.UUID) -> set[uuid.UUID]:
        """The ids of the thread's live participants."""
        stmt = self.of_thread(thread_id).with_only_columns(ThreadParticipant.user_id)
        return set((await self.session.scalars(stmt)).all())
