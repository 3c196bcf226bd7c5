"""Messages: listed and posted inside their thread (members only), edited and deleted by id."""

import uuid
from typing import Annotated

from fastapi import Depends, Request

from app.messenger.controller import MessageController
from app.messenger.schemas import MessageRead
from core.crud import CrudRouter
from core.deps import provide
from core.files import FileDownload
from core.files.routes import StorageDep, base_url
from core.routing import read_only

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

Messages = Annotated[MessageController, Depends(provide(MessageController))]


@router.get("/{message_id}/attachments/{file_id}")
@read_only
async def download_attachment(
    message_id: uuid.UUID,
    file_id: uuid.UUID,
    messages: Messages,
    storage: StorageDep,
    request: Request,
) -> FileDownload:
    """A short-lived URL of one of the message's files (members of its thread only: 404 for
    anyone else, and once the message is deleted); then a plain GET of `url`."""
    return await messages.attachment_download(message_id, file_id, storage, base_url(request))
