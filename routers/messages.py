"""Messages: listed and posted inside their thread (members only), edited and deleted by id."""

from app.messenger.controller import MessageController
from app.messenger.schemas import MessageRead
from core.crud import CrudRouter

thread_messages = CrudRouter(
    MessageController,
    MessageRead,
    prefix="/threads/{thread_id}/messages",
    name="thread_messages",
    tags=["threads"],
    exclude=["get", "update", "delete", "restore"],  # by id below: the API's contract since v1
)
"""The thread's messages, newest first (`?since=` keeps those at or after a time); post as
yourself — the thread's activity moves to the new message."""

router = CrudRouter(
    MessageController,
    MessageRead,
    prefix="/messages",
    tags=["messages"],
    exclude=["list", "create", "get", "restore"],
)
"""Edit your own message (`edited_at` is set); delete your own, or any as an admin (soft)."""
