"""Statements over the messenger tables; builders return `Select`s that controllers compose."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, exists, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.messenger.models import Message, Thread, ThreadParticipant
from core.repository import BaseRepository


def is_live_member(thread_id: Any, user_id: uuid.UUID) -> Any:
    """`EXISTS` a live participation of `user_id` in the thread `thread_id` (a column or value)."""
    p = ThreadParticipant.__table__.c  # cheaper to build on than the ORM attributes
    return exists().where(p.thread_id == thread_id, p.user_id == user_id, p.deleted_at.is_(None))


def live_member_ids(thread_id: uuid.UUID) -> Select[uuid.UUID]:
    """The user ids of the thread's live participants (the audience of its events)."""
    p = ThreadParticipant
    return select(p.user_id).where(p.thread_id == thread_id, p.deleted_at.is_(None))


def joined_after(thread_id: uuid.UUID, user_id: uuid.UUID) -> Select[int]:
    """The seq after which the user's live participation reads the thread's events (no row:
    not a member)."""
    p = ThreadParticipant
    return select(p.joined_seq - 1).where(
        p.thread_id == thread_id, p.user_id == user_id, p.deleted_at.is_(None)
    )


# The write path's statements, built once (each call binds its values): on tables, not
# entities, so nothing in the session is synchronised — the methods below say what they keep
# in step.
_thread_table = cast(Table, Thread.__table__)
_member_table = cast(Table, ThreadParticipant.__table__)
_threads, _members = _thread_table.c, _member_table.c
_POSTED = (
    update(_thread_table)
    .where(_threads.id == bindparam("tid"))
    .values(
        event_seq=_threads.event_seq + 1,
        last_message_at=bindparam("at", type_=_threads.last_activity_at.type),
        last_activity_at=bindparam("at"),
        updated_at=bindparam("at"),
    )
    .returning(_threads.event_seq)
)
_MARK_READ = (
    update(_member_table)
    .where(
        _members.thread_id == bindparam("tid"),
        _members.user_id == bindparam("uid"),
        _members.deleted_at.is_(None),
        _members.last_read_seq < bindparam("seq"),
    )
    .values(last_read_seq=bindparam("seq"))
)
_MEMBER_IDS = select(_members.user_id).where(
    _members.deleted_at.is_(None), _members.thread_id == bindparam("tid")
)


class ThreadRepository(BaseRepository[Thread]):
    model = Thread
    not_found_detail = "The thread does not exist."
    load_options = (selectinload(Thread.participants).selectinload(ThreadParticipant.user),)

    def keyset_key(self) -> tuple[InstrumentedAttribute[Any], ...]:
        # Most recent activity first; never NULL (see Thread.last_activity_at).
        return (Thread.last_activity_at, Thread.id)

    async def message_posted(self, thread: Thread, at: datetime) -> int:
        """Take the (locked) thread's next event id and move its activity to `at`, in one
        `UPDATE … RETURNING`; the loaded `thread` is kept in step. Returns the event id."""
        seq = int((await self.session.execute(_POSTED, {"tid": thread.id, "at": at})).scalar_one())
        for name, value in (
            ("event_seq", seq),
            ("last_message_at", at),
            ("last_activity_at", at),
            ("updated_at", at),
        ):
            set_committed_value(thread, name, value)
        return seq

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


class MessageRepository(BaseRepository[Message]):
    model = Message
    create_with_insert = True  # posted once, returned as it is


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
        params = {"tid": thread_id, "uid": user_id, "seq": seq}
        return await self.execute_write(_MARK_READ, params) > 0

    async def member_ids(self, thread_id: uuid.UUID) -> set[uuid.UUID]:
        """The ids of the thread's live participants."""
        return set((await self.session.scalars(_MEMBER_IDS, {"tid": thread_id})).all())
