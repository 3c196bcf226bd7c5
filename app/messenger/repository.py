"""Statements over the messenger tables. A thread and its participations are one aggregate:
`ThreadRepository` reads and writes both; builders return statements controllers compose."""

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from app.messenger.models import Message, MessageAttachment, Thread, ThreadParticipant
from core.db import utcnow
from core.errors import Conflict, NotFound
from core.files import StoredFile
from core.repository import BaseRepository

# On the table, not the entity: cheaper to build on, and the prebuilt writes below synchronise
# nothing in the session (the methods say what they keep in step).
_members = cast(Table, ThreadParticipant.__table__)
_member = _members.c
_LIVE = _member.deleted_at.is_(None)


def _live_participation(thread: Any, user_id: Any) -> ColumnElement[bool]:
    """The live participation rows of `user_id` in `thread` — a thread id (a column, value or
    bound parameter) or a list of them: every membership check of the messenger."""
    in_thread = (
        _member.thread_id.in_(thread) if isinstance(thread, list) else (_member.thread_id == thread)
    )
    return and_(in_thread, _member.user_id == user_id, _LIVE)


_THIS_MEMBER = _live_participation(bindparam("tid"), bindparam("uid"))
_MEMBERSHIP = select(ThreadParticipant).where(_THIS_MEMBER)
_MARK_READ = (
    update(_members)
    .where(_THIS_MEMBER, _member.last_read_seq < bindparam("seq"))
    .values(last_read_seq=bindparam("seq"))
)
_at = bindparam("at", type_=_member.deleted_at.type)
_LEAVE = update(_members).where(_THIS_MEMBER).values(deleted_at=_at, updated_at=_at)
NOT_A_PARTICIPANT = "The user is not a participant of this thread."
ALREADY_A_PARTICIPANT = "The user is already a participant of this thread."


class ThreadRepository(BaseRepository[Thread]):
    model = Thread
    not_found_detail = "The thread does not exist."
    load_options = (selectinload(Thread.participants).selectinload(ThreadParticipant.user),)

    def keyset_key(self) -> tuple[InstrumentedAttribute[Any], ...]:
        # Most recent activity first; never NULL (see Thread.last_activity_at).
        return (Thread.last_activity_at, Thread.id)

    # -- statements (also the thread stream's audience: app/messenger/events.py) --------------

    @staticmethod
    def has_member(user_id: uuid.UUID) -> ColumnElement[bool]:
        """`EXISTS` a live participation of `user_id` in the thread of the outer statement."""
        return exists().where(_live_participation(Thread.__table__.c.id, user_id))

    @staticmethod
    def member_ids_of(thread_id: uuid.UUID) -> Select[uuid.UUID]:
        """The user ids of the thread's live participants."""
        return select(_member.user_id).where(_member.thread_id == thread_id, _LIVE)

    @staticmethod
    def joined_after(thread_id: uuid.UUID, user_id: uuid.UUID) -> Select[int]:
        """The seq after which the user's live participation reads the thread's events (no
        row: not a member)."""
        return select(_member.joined_seq - 1).where(_live_participation(thread_id, user_id))

    # -- participants ---------------------------------------------------------------------------

    async def member_ids(self, thread_id: uuid.UUID) -> set[uuid.UUID]:
        """The ids of the thread's live participants."""
        return set((await self.session.scalars(self.member_ids_of(thread_id))).all())

    async def membership(self, thread_id: uuid.UUID, user_id: uuid.UUID) -> ThreadParticipant:
        """The user's live participation in the thread; `NotFound` if there is none."""
        params = {"tid": thread_id, "uid": user_id}
        found = (await self.session.scalars(_MEMBERSHIP, params)).first()
        if found is None:
            raise NotFound(NOT_A_PARTICIPANT)
        return found

    async def add_members(self, rows: Sequence[ThreadParticipant]) -> None:
        """Insert participation rows in one flush; 409 for a user already taking part."""
        self.session.add_all(rows)
        try:
            await self.flush()
        except Conflict as exc:
            raise Conflict(ALREADY_A_PARTICIPANT) from exc

    async def remove_member(self, thread_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """End the user's live participation (a soft delete: history stays); 404 if none."""
        params = {"tid": thread_id, "uid": user_id, "at": utcnow()}
        if not await self.execute_write(_LEAVE, params):
            raise NotFound(NOT_A_PARTICIPANT)

    async def organization_threads_of(
        self, organization_id: uuid.UUID, user_id: uuid.UUID
    ) -> list[uuid.UUID]:
        """The live threads of the organization the user takes part in, locked, in id order
        (one order for every writer: no deadlock between two removals)."""
        stmt = (
            select(Thread.id)
            .where(
                Thread.organization_id == organization_id,
                Thread.deleted_at.is_(None),
                self.has_member(user_id),
            )
            .order_by(Thread.id)
            .with_for_update(of=Thread)
        )
        return list((await self.session.scalars(stmt)).all())

    async def mark_read(self, thread_id: uuid.UUID, user_id: uuid.UUID, seq: int) -> bool:
        """Move the user's read marker forward to `seq` (never back); True if it moved."""
        params = {"tid": thread_id, "uid": user_id, "seq": seq}
        return await self.execute_write(_MARK_READ, params) > 0

    async def unread_counts(
        self, thread_ids: Sequence[uuid.UUID], user_id: uuid.UUID, cap: int
    ) -> dict[uuid.UUID, int]:
        """Live messages after the user's read marker in each thread, counted up to `cap`:
        one query for the page, each count one range of `ix_messages_thread_seq_live` that
        stops after `cap` rows, however long the thread's history."""
        after_marker = (
            select(Message.id)
            .where(
                Message.thread_id == _member.thread_id,
                Message.seq > _member.last_read_seq,
                Message.deleted_at.is_(None),
            )
            .limit(cap)
            .correlate(_members)  # the participant row of the outer query, not a join of its own
            .subquery()
        )
        count = select(func.count()).select_from(after_marker).scalar_subquery()
        mine = _live_participation(list(thread_ids), user_id)
        stmt = select(_member.thread_id, count).where(mine)
        return {thread_id: int(n) for thread_id, n in (await self.session.execute(stmt)).all()}


class MessageRepository(BaseRepository[Message]):
    model = Message
    create_with_insert = True  # posted once, returned as it is

    # -- attachments ----------------------------------------------------------------------------

    @staticmethod
    def attachment_files(message_ids: Sequence[uuid.UUID]) -> Select[uuid.UUID, StoredFile]:
        """(message id, file) of every live file of the messages, in each message's order."""
        link = MessageAttachment
        return (
            select(link.message_id, StoredFile)
            .join(StoredFile, StoredFile.id == link.file_id)
            .where(link.message_id.in_(message_ids), StoredFile.deleted_at.is_(None))
            .order_by(link.message_id, link.position)
        )

    async def attachments_of(
        self, message_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[StoredFile]]:
        """The live files of each of the messages, in their order, in one query."""
        found: dict[uuid.UUID, list[StoredFile]] = {}
        for message_id, file in await self.session.execute(self.attachment_files(message_ids)):
            found.setdefault(message_id, []).append(file)
        return found

    async def attachment(self, message_id: uuid.UUID, file_id: uuid.UUID) -> StoredFile:
        """One live file of the message; `NotFound` if it has none by that id."""
        stmt = self.attachment_files([message_id]).where(StoredFile.id == file_id)
        row = (await self.session.execute(stmt)).first()
        if row is None:
            raise NotFound("The message has no such attachment.")
        file: StoredFile = row[1]
        return file

    async def link_files(self, message_id: uuid.UUID, files: Sequence[StoredFile]) -> None:
        """Record `files` as the message's attachments, in this order."""
        rows = [
            MessageAttachment(message_id=message_id, file_id=file.id, position=i)
            for i, file in enumerate(files)
        ]
        self.session.add_all(rows)
        await self.flush()
