"""The messenger's events: one stream per thread (`THREADS(thread_id)`), declared on the core's
streams like any entity's. Its audience is the thread's live participants, each reading kept
events from their own joining on; its seq is the thread's `event_seq` (bumped under the
thread's row lock, and stored on messages as their `seq`).

Every event is `{"type", "stream", "thread_id", "seq", "data"}`; `data` is what the REST API
returns for the object (`MessageRead`, `ThreadRead` without the reader's own `unread_count`, or
ids for deletions). Ephemeral events (`typing`, `thread.read`) have `seq: null` and are not
kept.
"""

from typing import Any

from app.messenger.models import Thread
from app.messenger.repository import ThreadRepository
from app.messenger.schemas import ThreadRead
from core.platform.realtime import StreamKind

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

THREADS = StreamKind(
    "threads",
    audience=ThreadRepository.member_ids_of,
    since=ThreadRepository.joined_after,
    counter=Thread.event_seq,
    id_field="thread_id",
)
"""A thread's stream: `THREADS(thread.id)`."""


def thread_data(thread: Thread) -> dict[str, Any]:
    """A thread as its events carry it: `ThreadRead` without the reader's own unread count."""
    return ThreadRead.model_validate(thread).model_dump(mode="json", exclude={"unread_count"})
