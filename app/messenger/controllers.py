"""Thread and message rules. Visibility lives in `scope()`: a non-member cannot tell a thread or
message from one that does not exist (404 either way). Permissions on a visible row live in
`check_object()` (403: the caller already knows the row exists)."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.messenger.models import Message, Role, Thread, ThreadParticipant
from app.messenger.repository import (
    MessageRepository,
    ParticipantRepository,
    ThreadRepository,
    is_live_member,
)
from app.messenger.schemas import MessageCreate, MessageUpdate, ThreadCreate, ThreadUpdate
from core.controller import Action, BaseController
from core.db import utcnow
from core.errors import Forbidden, Unauthorized
from core.repository import CursorResult
from core.security import Principal, Scope


class MessengerController:
    """What both controllers need to know about the caller."""

    principal: Principal | None

    @property
    def me(self) -> uuid.UUID:
        if self.principal is None:  # the routers' gate guarantees one
            raise Unauthorized()
        return self.principal.id

    @property
    def is_admin(self) -> bool:
        return self.principal is not None and self.principal.has(Scope.ADMIN)


class ThreadController(MessengerController, BaseController[Thread, ThreadCreate, ThreadUpdate]):
    repository_class = ThreadRepository
    read_options = (selectinload(Thread.participants).selectinload(ThreadParticipant.user),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.participants = ParticipantRepository(self.session)

    def scope(self, stmt: Select[Thread]) -> Select[Thread]:
        # Only threads the caller takes part in exist for them.
        return stmt.where(is_live_member(Thread.id, self.me))

    async def check_object(self, obj: Thread, action: Action) -> None:
        if action in (Action.UPDATE, Action.DELETE) and obj.created_by != self.me:
            raise Forbidden("Only the thread's creator may rename or delete it.")

    async def perform_create(self, data: ThreadCreate) -> Thread:
        now = utcnow()
        thread = await self.repository.add(
            Thread(
                title=data.title,
                created_by=self.me,
                created_at=now,
                updated_at=now,
                last_activity_at=now,  # never NULL: the thread list is a keyset walk over it
            )
        )
        members = [uid for uid in dict.fromkeys(data.participant_ids) if uid != self.me]
        await self.participants.add_many(
            [
                ThreadParticipant(thread_id=thread.id, user_id=self.me, role=Role.CREATOR),
                *(ThreadParticipant(thread_id=thread.id, user_id=uid) for uid in members),
            ]
        )
        return thread

    async def get_plain(self, id_: uuid.UUID, *, for_update: bool = False) -> Thread:
        """A visible thread without its participants, for routes that need only membership."""
        stmt = self.scope(self.repository.by_id(id_))
        if for_update:
            stmt = stmt.with_for_update(of=Thread)
        return await self.repository.one(stmt)

    async def reload(self, thread: Thread) -> Thread:
        """The thread with its participants read again (after they changed in this session)."""
        stmt = self.scope(self.repository.by_id(thread.id)).options(*self.read_options)
        return await self.repository.one(stmt.execution_options(populate_existing=True))

    def require_manager(self, thread: Thread) -> None:
        """403 unless the caller is the thread's creator or an admin."""
        if thread.created_by != self.me and not self.is_admin:
            raise Forbidden("Only the thread's creator or an admin may manage participants.")

    async def add_participants(self, thread: Thread, user_ids: Iterable[uuid.UUID]) -> None:
        """Add users who are not members yet (already-members are skipped)."""
        self.require_manager(thread)
        present = await self.participants.member_ids(thread.id)
        new = [uid for uid in dict.fromkeys(user_ids) if uid not in present]
        await self.participants.add_many(
            ThreadParticipant(thread_id=thread.id, user_id=uid) for uid in new
        )

    async def remove_participant(self, thread: Thread, user_id: uuid.UUID) -> None:
        """Leave (any member, for themselves) or remove someone (creator or admin)."""
        if user_id != self.me:
            self.require_manager(thread)
            if user_id == thread.created_by:
                raise Forbidden("The creator cannot be removed; they may leave the thread.")
        membership = await self.participants.one(self.participants.membership(thread.id, user_id))
        await self.participants.soft_delete(membership)

    async def record_message(self, thread: Thread, at: datetime) -> None:
        """Move the thread's activity to the time of a new message."""
        await self.repository.update(thread, {"last_message_at": at, "last_activity_at": at})


class MessageController(MessengerController, BaseController[Message, MessageCreate, MessageUpdate]):
    repository_class = MessageRepository
    repository: MessageRepository

    def scope(self, stmt: Select[Message]) -> Select[Message]:
        # Messages of live threads the caller takes part in.
        my_threads = select(Thread.id).where(
            Thread.deleted_at.is_(None), is_live_member(Thread.id, self.me)
        )
        return stmt.where(Message.thread_id.in_(my_threads))

    async def check_object(self, obj: Message, action: Action) -> None:
        if obj.author_id == self.me:
            return
        if action == Action.DELETE and self.is_admin:
            return
        if action in (Action.UPDATE, Action.DELETE):
            raise Forbidden("Only the author may change this message.")

    async def create_in(self, thread: Thread, data: MessageCreate) -> Message:
        """Post to `thread` (a thread `ThreadController` showed this caller) as the caller."""
        message = Message(thread_id=thread.id, author_id=self.me, body=data.body)
        return await self.repository.add(message)

    async def perform_update(self, obj: Message, data: MessageUpdate) -> Message:
        return await self.repository.update(obj, {"body": data.body, "edited_at": utcnow()})

    async def delete(self, id_: uuid.UUID) -> None:
        # Moderation: admins may delete any live message, member of its thread or not.
        if self.is_admin:
            await self.perform_delete(await self.repository.get(id_, for_update=True))
            return
        await super().delete(id_)

    async def list_in(
        self,
        thread: Thread,
        *,
        since: datetime | None = None,
        cursor: str | None = None,
        limit: int,
    ) -> CursorResult[Message]:
        """Newest first, keyset over (created_at, id); `since` keeps messages at or after it.

        `thread` comes from `ThreadController`, which already checked the caller is a member, so
        the query is one index range: (thread_id, created_at, id).
        """
        self._check_limit(limit)
        stmt = self.repository.in_thread(thread.id)
        if since is not None:
            stmt = stmt.where(Message.created_at >= since)
        return await self.repository.page_keyset(stmt, limit=limit, cursor=cursor)
