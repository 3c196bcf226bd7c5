"""Threads, who takes part in them, and their messages.

Every relationship is `lazy="raise"`: reads say what they load (`selectinload`) in the controllers'
`load_options`, so an accidental per-row query fails loudly instead of slowing down silently.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text, and_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.users.models import User
from core.columns import enum_column
from core.db import CommonBase, utcnow
from core.files import StoredFile

LIVE = text("deleted_at IS NULL")


class Role(StrEnum):
    """A participant's role in a thread."""

    CREATOR = "creator"
    MEMBER = "member"


class Thread(CommonBase):
    """A conversation. `last_activity_at` starts at creation and follows the newest message, so
    "most recent activity first" is a keyset walk over a column that is never NULL."""

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_last_activity", "last_activity_at", "id"),)

    title: Mapped[str] = mapped_column(String(200))
    # The organization whose members alone take part (None: a personal thread).
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id"), default=None, index=True
    )
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    last_message_at: Mapped[datetime | None] = mapped_column(default=None)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The seq of the thread's latest event (its stream's counter): bumped under the row lock.
    event_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    unread_count = 0  # not a column: the caller's count, set by ThreadController.annotate

    participants: Mapped[list["ThreadParticipant"]] = relationship(
        primaryjoin=lambda: and_(
            ThreadParticipant.thread_id == Thread.id, ThreadParticipant.deleted_at.is_(None)
        ),
        order_by=lambda: (ThreadParticipant.joined_at, ThreadParticipant.id),
        viewonly=True,
        lazy="raise",
    )
    messages: Mapped[list["Message"]] = relationship(viewonly=True, lazy="raise")


class ThreadParticipant(CommonBase):
    """Membership of one user in one thread (`users_and_threads`).

    Leaving or being removed soft-deletes the row: history stays, and rejoining adds a new row
    (one live row per user and thread, enforced by a partial unique index).
    """

    __tablename__ = "users_and_threads"
    __table_args__ = (
        Index(
            "uq_users_and_threads_user_thread_live",
            "user_id",
            "thread_id",
            unique=True,
            postgresql_where=LIVE,
            sqlite_where=LIVE,
        ),
        Index("ix_users_and_threads_thread", "thread_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id"))
    role: Mapped[Role] = enum_column(Role, name="participant_role", length=16, default=Role.MEMBER)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The thread's event id when this participation began: its events start there.
    joined_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Read state: the seq of the last message this participant has read.
    last_read_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    user: Mapped[User] = relationship(lazy="raise")

    @property
    def full_name(self) -> str:
        """The participant's display name (needs `user` eagerly loaded)."""
        return self.user.full_name


class Message(CommonBase):
    """One message. Deleting it (author or admin) is a soft delete that deletes its attachments
    too; editing sets `edited_at`."""

    __tablename__ = "messages"
    __allow_unmapped__ = True  # `attachments` below is not a column
    __table_args__ = (
        # Serves the history page: one thread, newest first, keyset over (created_at, id).
        Index(
            "ix_messages_thread_created_live",
            "thread_id",
            "created_at",
            "id",
            postgresql_where=LIVE,
            sqlite_where=LIVE,
        ),
        # Serves unread counts: live messages after a read marker, one index range per thread.
        Index(
            "ix_messages_thread_seq_live",
            "thread_id",
            "seq",
            postgresql_where=LIVE,
            sqlite_where=LIVE,
        ),
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id"))
    # The id of the `message.created` event (per thread, increasing); NULL for older rows.
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    # How many files it carries: a page of messages without any reads no attachments.
    attachment_count: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    attachments: Sequence[StoredFile] = ()  # set by MessageController.annotate

    thread: Mapped[Thread] = relationship(lazy="raise")
    author: Mapped[User] = relationship(lazy="raise")


class MessageAttachment(CommonBase):
    """One file of a message, in the order it was sent (`position`). A file belongs to one
    message at most."""

    __tablename__ = "message_attachments"
    __table_args__ = (Index("ix_message_attachments_message", "message_id", "position"),)

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    # The sweep (core/files/housekeeping.py) deletes a deleted file's row: its link goes too.
    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stored_files.id", ondelete="CASCADE"), unique=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)
