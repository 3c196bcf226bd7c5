"""Thread events: each change of a thread gets the thread's next event id (`seq`, under the
thread's row lock), is kept in `thread_events` in the same transaction, and is published to the
thread's members only once that transaction commits.

Every event is `{"type", "thread_id", "seq", "data"}`; `data` is what the REST API returns for
the object (`MessageRead`, `ThreadRead` without the reader's own `unread_count`, or ids for
deletions). Ephemeral events (`typing`, `thread.read`) have `seq: null` and are not kept.
"""

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, delete, select, update

from app.messenger.models import Thread, ThreadEvent, ThreadParticipant
from app.messenger.repository import ParticipantRepository, ThreadEventRepository
from core.platform.realtime import publisher_of
from core.service import SessionBound

MESSAGE_CREATED = "message.created"
MESSAGE_EDITED = "message.edited"
MESSAGE_DELETED = "message.deleted"
THREAD_CREATED = "thread.created"
THREAD_RENAMED = "thread.renamed"
THREAD_DELETED = "thread.deleted"
PARTICIPANT_ADDED = "participant.added"
PARTICIPANT_REMOVED = "participant.removed"
THREAD_READ = "thread.read"
TYPING = "typing"


def event_frame(kind: str, thread_id: uuid.UUID, seq: int | None, data: Any) -> str:
    """One event as the JSON text the socket sends."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", exclude={"unread_count"})
    body = {"type": kind, "thread_id": str(thread_id), "seq": seq, "data": data}
    return json.dumps(body, separators=(",", ":"), default=str)


def events_after(thread_id: uuid.UUID, after: int, limit: int) -> Select[int, str]:
    """The kept events of a thread after `after`, oldest first (the unique index's range)."""
    return (
        select(ThreadEvent.seq, ThreadEvent.frame)
        .where(ThreadEvent.thread_id == thread_id, ThreadEvent.seq > after)
        .order_by(ThreadEvent.seq)
        .limit(limit)
    )


def first_id_at(moment: datetime) -> uuid.UUID:
    """The smallest UUIDv7 of `moment`: ids (`core.db.new_id`) below it were made before it."""
    return uuid.UUID(int=int(moment.timestamp() * 1000) << 80)


async def purge_events(session: Any, before: datetime) -> int:
    """Delete the kept events recorded before `before`; how many. Through the primary key (ids
    are UUIDv7, ordered by creation time), so no index on `created_at` and no table scan."""
    result = await session.execute(delete(ThreadEvent).where(ThreadEvent.id < first_id_at(before)))
    return int(result.rowcount or 0)


def is_gap(after: int, current: int, rows: Sequence[tuple[int, str]]) -> bool:
    """Whether kept events are missing right after `after` (purged by retention): the first
    row is not `after + 1`, or there is none although the thread moved on."""
    if rows:
        return rows[0][0] > after + 1
    return current > after


class ThreadEvents(SessionBound):
    """Records thread events in the request's unit of work and publishes them after commit
    (what the messenger's controllers write with; not a service)."""

    async def next_seq(self, thread_id: uuid.UUID) -> int:
        """Take the thread's next event id. The UPDATE locks the thread's row until commit, so
        ids are assigned — and committed — in order, without gaps."""
        stmt = (
            update(Thread)
            .where(Thread.id == thread_id)
            .values(event_seq=Thread.event_seq + 1)
            .returning(Thread.event_seq)
        )
        seq = await self.session.scalar(stmt)
        assert seq is not None, "the thread row exists (it was read first)"
        return int(seq)

    async def emit(
        self,
        thread_id: uuid.UUID,
        seq: int,
        kind: str,
        data: Any,
        *,
        also: Iterable[uuid.UUID] = (),
    ) -> None:
        """Keep event `seq` and, after commit, send it to the thread's live members (as they are
        in this transaction) and to `also` (e.g. the participant just removed)."""
        text = event_frame(kind, thread_id, seq, data)
        event = ThreadEvent(thread_id=thread_id, seq=seq, type=kind, frame=text)
        await ThreadEventRepository(self.session).insert(event)  # written once, never read back
        recipients = await self.members(thread_id) | set(also)
        self._publish_after_commit(recipients, text, str(thread_id), seq)

    async def record(self, thread_id: uuid.UUID, kind: str, data: Any, **kwargs: Any) -> int:
        """`next_seq` then `emit`, for changes that need the id only for the event."""
        seq = await self.next_seq(thread_id)
        await self.emit(thread_id, seq, kind, data, **kwargs)
        return seq

    async def ephemeral(
        self, thread_id: uuid.UUID, kind: str, data: Any, *, exclude: uuid.UUID | None = None
    ) -> None:
        """An event that is not kept (typing, read markers), to the live members."""
        recipients = await self.members(thread_id) - {exclude}
        self._publish_after_commit(recipients, event_frame(kind, thread_id, None, data), None, None)

    async def members(self, thread_id: uuid.UUID) -> set[uuid.UUID]:
        """The thread's live participants."""
        return await ParticipantRepository(self.session).member_ids(thread_id)

    def _publish_after_commit(
        self, recipients: set[uuid.UUID], text: str, key: str | None, seq: int | None
    ) -> None:
        hub = publisher_of(self.session)
        if hub is not None and recipients:
            self.after_commit(partial(hub.publish, sorted(recipients), text, key=key, seq=seq))


async def replay_frames(
    session: Any, user_id: uuid.UUID, after: dict[uuid.UUID, int], limit: int
) -> list[tuple[uuid.UUID, int, int, Sequence[tuple[int, str]]]]:
    """For each thread of `after` the user is a live member of: its current event id, the seq
    the replay starts after (the user's own participation on) and the kept events after it
    (at most `limit`+1, so the caller can tell there were more)."""
    if not after:
        return []
    memberships = (
        await session.execute(
            select(ThreadParticipant.thread_id, ThreadParticipant.joined_seq, Thread.event_seq)
            .join(Thread, Thread.id == ThreadParticipant.thread_id)
            .where(
                ThreadParticipant.user_id == user_id,
                ThreadParticipant.thread_id.in_(list(after)),
                ThreadParticipant.deleted_at.is_(None),
            )
        )
    ).all()
    found: list[tuple[uuid.UUID, int, int, Sequence[tuple[int, str]]]] = []
    for thread_id, joined_seq, current in memberships:
        start = max(after[thread_id], joined_seq - 1)
        rows = (await session.execute(events_after(thread_id, start, limit + 1))).all()
        found.append((thread_id, int(current), start, [(int(s), str(f)) for s, f in rows]))
    return found
