"""Thread and message rules. Visibility lives in `visible()`: a non-member cannot tell a thread or
message from one that does not exist (404 either way). Permissions on a visible row live in
`check_object()` (403: the caller already knows the row exists)."""

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Select

from app.messenger import events
from app.messenger.events import THREADS, thread_data
from app.messenger.models import Message, Role, Thread, ThreadParticipant
from app.messenger.repository import MessageRepository, ThreadRepository
from app.messenger.schemas import (
    UNREAD_CAP,
    EventPage,
    MessageCreate,
    MessageFilters,
    MessageRead,
    MessageUpdate,
    ParticipantsAdd,
    ReadMarker,
    ReadState,
    ThreadCreate,
    ThreadUpdate,
)
from app.organizations.tenancy import MEMBERS
from app.users.controller import UserController
from core.controller import Action, BaseController, Owner, Parent
from core.db import utcnow
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from core.files import FileController, FileDownload
from core.pagination import CursorPagination
from core.platform.realtime import emit, emit_ephemeral, next_seq, read_events
from core.platform.storage import Storage
from core.security import Scope


class ThreadController(BaseController[Thread, ThreadCreate, ThreadUpdate, ThreadRepository]):
    pagination = CursorPagination()  # most recent activity first (ThreadRepository.keyset_key)
    max_participants: ClassVar[int] = 1000
    """Members one thread may have, its creator included (more is a 409). A class attribute,
    not an environment setting: the example's limits live with it, so a project made without
    the example has no variable that names it."""

    def visible(self, stmt: Select[Thread], action: Action) -> Select[Thread]:
        # Only threads the caller takes part in exist for them.
        return stmt.where(self.repository.has_member(self.me.id))

    async def check_object(self, obj: Thread, action: Action) -> None:
        if action in (Action.UPDATE, Action.DELETE) and obj.created_by != self.me.id:
            raise Forbidden("Only the thread's creator may rename or delete it.")

    async def annotate(self, rows: Sequence[Thread]) -> None:
        # The caller's unread count of every thread of the page, in one query.
        ids = [t.id for t in rows]
        counts = await self.repository.unread_counts(ids, self.me.id, UNREAD_CAP)
        for thread in rows:
            thread.unread_count = counts.get(thread.id, 0)

    async def written(self, action: Action, obj: Thread) -> None:
        stream = THREADS(obj.id)
        if action is Action.CREATE:  # its seq was taken in perform_create (joined_seq)
            await emit(self, stream, events.THREAD_CREATED, thread_data(obj), seq=obj.event_seq)
        elif action is Action.UPDATE:
            await emit(self, stream, events.THREAD_RENAMED, thread_data(obj))
        elif action is Action.DELETE:
            await emit(self, stream, events.THREAD_DELETED, {"id": str(obj.id)})

    async def perform_create(self, data: ThreadCreate, **values: Any) -> Thread:
        """The thread, its creator and the (deduplicated) participants; in an organization,
        members of it only (the creator first: one 422 for an organization that is not theirs
        and one that does not exist)."""
        org = data.organization_id
        if org is not None and await MEMBERS.role(self.session, org, self.me.id) is None:
            msg = "You are not a member of this organization, or it does not exist."
            raise InvalidInput(msg, errors=[field_error(["body", "organization_id"], msg)])
        await self._require_eligible(data.organization_id, data.participant_ids, "participant_ids")
        self._require_room({self.me.id, *data.participant_ids})
        now = utcnow()
        thread = await self.repository.add(
            Thread(
                title=data.title,
                organization_id=data.organization_id,
                created_by=self.me.id,
                created_at=now,
                updated_at=now,
                last_activity_at=now,  # never NULL: the thread list is a keyset walk over it
            )
        )
        seq = await next_seq(self, THREADS(thread.id))  # thread.created: where members start
        creator = ThreadParticipant(
            thread_id=thread.id, user_id=self.me.id, role=Role.CREATOR, joined_seq=seq
        )
        others = [uid for uid in data.participant_ids if uid != self.me.id]
        await self._add_members(thread, others, seq, creator)
        return thread

    # -- participants -------------------------------------------------------------------------

    async def add_participants(self, thread_id: uuid.UUID, data: ParticipantsAdd) -> Thread:
        """Add active users (creator or admin); users already in the thread are skipped."""
        thread = await self.get(thread_id, for_update=True, options=())
        self._require_manager(thread)  # before telling anyone which user ids exist
        await self._require_eligible(thread.organization_id, data.user_ids, "user_ids")
        present = await self.repository.member_ids(thread.id)
        new = [uid for uid in data.user_ids if uid not in present]
        if not new:
            return await self.as_read(thread)
        self._require_room({*present, *new})
        stream = THREADS(thread.id)
        seq = await next_seq(self, stream)
        await self._add_members(thread, new, seq)
        thread = await self.as_read(thread)
        await emit(self, stream, events.PARTICIPANT_ADDED, thread_data(thread), seq=seq)
        return thread

    async def remove_participant(self, thread_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Leave (any member, for themselves) or remove someone (creator or admin)."""
        thread = await self.get(thread_id, for_update=True, options=())
        if user_id != self.me.id:
            self._require_manager(thread)
            if user_id == thread.created_by:
                raise Forbidden("The creator cannot be removed; they may leave the thread.")
        await self.repository.remove_member(thread.id, user_id)
        removed = {"user_id": str(user_id)}
        await emit(self, THREADS(thread.id), events.PARTICIPANT_REMOVED, removed, also=[user_id])

    async def remove_organization_member(
        self, organization_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        """Take a former member of the organization out of its threads: each thread's members
        (and they) see `participant.removed`, and the thread's events stop reaching them when
        this commits. Runs when the membership ends (`MEMBERS.on_removed`, wiring.py)."""
        removed = {"user_id": str(user_id)}
        for thread_id in await self.repository.organization_threads_of(organization_id, user_id):
            await self.repository.remove_member(thread_id, user_id)
            stream = THREADS(thread_id)
            await emit(self, stream, events.PARTICIPANT_REMOVED, removed, also=[user_id])

    async def events_after(self, thread_id: uuid.UUID, after: int, limit: int) -> EventPage:
        """The thread's kept events after `after`, oldest first, from the caller's own
        participation on (members only: 404 otherwise)."""
        self.pagination.check_limit(limit)
        thread = await self.get(thread_id, options=())
        page = await read_events(self, self.me.id, THREADS(thread.id), after, limit)
        if page is None:
            raise NotFound("The thread does not exist.")
        return EventPage(items=page.items, has_more=page.has_more, event_seq=page.seq)

    async def mark_read(self, thread_id: uuid.UUID, marker: ReadMarker) -> ReadState:
        """Move the caller's read marker forward (to the latest event when `seq` is omitted);
        members see a `thread.read` event. A marker never moves back."""
        thread = await self.get(thread_id, options=())
        seq = min(marker.seq if marker.seq is not None else thread.event_seq, thread.event_seq)
        if await self.repository.mark_read(thread.id, self.me.id, seq):
            data = {"user_id": str(self.me.id), "last_read_seq": seq}
            await emit_ephemeral(self, THREADS(thread.id), events.THREAD_READ, data)
        mine = await self.repository.membership(thread.id, self.me.id)
        await self.annotate([thread])
        return ReadState(
            thread_id=thread.id, last_read_seq=mine.last_read_seq, unread_count=thread.unread_count
        )

    async def announce_typing(self, thread_id: uuid.UUID) -> None:
        """Tell the thread's other members the caller is typing (members only: 404 otherwise)."""
        thread = await self.get(thread_id, options=())
        data = {"user_id": str(self.me.id)}
        await emit_ephemeral(self, THREADS(thread.id), events.TYPING, data, exclude=self.me.id)

    async def _add_members(
        self, thread: Thread, user_ids: Sequence[uuid.UUID], seq: int, *rows: ThreadParticipant
    ) -> None:
        """Insert `rows` and a member row for each of `user_ids` (duplicates collapsed), whose
        events start at `seq`."""
        members = [
            ThreadParticipant(thread_id=thread.id, user_id=u, joined_seq=seq)
            for u in dict.fromkeys(user_ids)
        ]
        await self.repository.add_members([*rows, *members])

    def _require_room(self, members: set[uuid.UUID]) -> None:
        """409 when `members` are more than a thread may have (`max_participants`)."""
        if len(members) > self.max_participants:
            cap = self.max_participants
            raise Conflict(f"A thread has at most {cap} participants, its creator included.")

    def _require_manager(self, thread: Thread) -> None:
        if thread.created_by != self.me.id and not self.me.has(Scope.ADMIN):
            raise Forbidden("Only the thread's creator or an admin may manage participants.")

    async def _require_eligible(
        self, organization_id: uuid.UUID | None, ids: Sequence[uuid.UUID], field: str
    ) -> None:
        """422 naming every id (by its position in the body) that is not an existing, active
        user, or in an organization's thread not a member of it. The caller is active by
        definition (their token was just checked)."""
        me = self.me.id
        users = self.controller(UserController).repository
        allowed = await users.active_ids(set(ids) - {me}) | {me}
        problem = "does not exist or is not active"
        if organization_id is not None:
            allowed &= await MEMBERS.member_ids(self.session, organization_id, allowed)
            problem = "does not exist, is not active or is not a member of the organization"
        bad = [(i, uid) for i, uid in enumerate(ids) if uid not in allowed]
        if bad:
            raise InvalidInput(
                f"Some users {problem}.",
                errors=[
                    field_error(["body", field, i], f"User {uid} {problem}.") for i, uid in bad
                ],
            )


ATTACHMENTS = "message_attachments.file_id"
"""What holds a message's files (`StoredFile.attached_to`): the link's column, by which the
sweep finds files no message holds any longer."""


class MessageController(BaseController[Message, MessageCreate, MessageUpdate, MessageRepository]):
    # A visible thread's messages are readable by all its members (check_object limits only
    # edits and deletes): a page checks the thread in its own statement.
    parent = Parent(ThreadController, "thread_id", lock_on_create=True, reads_by_visibility=True)
    owner = Owner("author_id", private=False)  # posted as the caller; members read them all
    pagination = CursorPagination()  # newest first over (created_at, id): one index range a page
    filterset = MessageFilters

    def visible(self, stmt: Select[Message], action: Action) -> Select[Message]:
        # Moderation: admins may delete any live message, member of its thread or not.
        if action is Action.DELETE and self.me.has(Scope.ADMIN):
            return stmt
        return super().visible(stmt, action)  # messages of live threads the caller is in

    async def check_object(self, obj: Message, action: Action) -> None:
        if obj.author_id == self.me.id or action is Action.READ:
            return
        if action is Action.DELETE and self.me.has(Scope.ADMIN):
            return
        raise Forbidden("Only the author may change this message.")

    async def perform_create(
        self, data: MessageCreate, *, parent: Thread | None = None, **values: Any
    ) -> Message:
        """Post with the thread's next event id, move the (locked) thread's activity to the
        new message in the same statement, and count it as read by its author."""
        assert parent is not None, "messages are created in their thread"
        now = utcnow()  # under the thread's lock: messages' times follow their seq
        activity = {"last_message_at": now, "last_activity_at": now, "updated_at": now}
        seq = await next_seq(self, THREADS(parent.id), values=activity)  # `parent` follows
        files = await self.controller(FileController).claim(
            data.attachment_ids, ATTACHMENTS, field="attachment_ids"
        )
        message = await super().perform_create(
            data,
            parent=parent,
            seq=seq,
            created_at=now,
            updated_at=now,
            attachment_count=len(files),
            **values,
        )
        if files:
            await self.repository.link_files(message.id, files)
        message.attachments = files
        threads = self.controller(ThreadController).repository
        await threads.mark_read(parent.id, self.me.id, seq)
        return message

    async def perform_delete(self, obj: Message) -> None:
        """Soft-delete the message and its files: their downloads answer 404 from now on."""
        await super().perform_delete(obj)
        if obj.attachment_count:
            files = (await self.repository.attachments_of([obj.id])).get(obj.id, [])
            await self.controller(FileController).discard_all(files, storage=None)

    async def annotate(self, rows: Sequence[Message]) -> None:
        # Attachments of the messages that have any (and do not carry them yet), one query.
        ids = [m.id for m in rows if m.attachment_count and "attachments" not in vars(m)]
        if ids:
            found = await self.repository.attachments_of(ids)
            for message in rows:
                if message.id in found:
                    message.attachments = found[message.id]

    async def annotate_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        # A page of messages stays plain rows: most carry no file, and those need no query.
        ids = [row["id"] for row in rows if row["attachment_count"]]
        found = await self.repository.attachments_of(ids) if ids else {}
        for row in rows:
            row["attachments"] = found.get(row["id"], [])

    async def attachment_download(
        self, message_id: uuid.UUID, file_id: uuid.UUID, storage: Storage, base_url: str
    ) -> FileDownload:
        """A short-lived URL of one of the message's files: members of its thread only (404
        otherwise, as for a message that does not exist or was deleted)."""
        message = await self.get(message_id, options=())
        file = await self.repository.attachment(message.id, file_id)
        return await self.controller(FileController).download(file, storage, base_url)

    async def perform_update(self, obj: Message, data: MessageUpdate) -> Message:
        return await self.repository.update(obj, {"body": data.body, "edited_at": utcnow()})

    async def written(self, action: Action, obj: Message) -> None:
        stream = THREADS(obj.thread_id)
        if action is Action.CREATE and obj.seq is not None:  # taken in perform_create
            data = MessageRead.model_validate(obj)
            await emit(self, stream, events.MESSAGE_CREATED, data, seq=obj.seq)
        elif action is Action.UPDATE:
            await emit(self, stream, events.MESSAGE_EDITED, MessageRead.model_validate(obj))
        elif action is Action.DELETE:
            deleted = {"id": str(obj.id), "thread_id": str(obj.thread_id)}
            await emit(self, stream, events.MESSAGE_DELETED, deleted)
