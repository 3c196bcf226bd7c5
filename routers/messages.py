"""One message by id: edit (author) and delete (author, or an admin moderating)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.messenger.schemas import MessageRead, MessageUpdate
from app.messenger.service import MessengerService
from core.deps import provide

router = APIRouter(prefix="/messages", tags=["messages"])

Messenger = Annotated[MessengerService, Depends(provide(MessengerService))]


@router.patch("/{message_id}")
async def edit_message(
    message_id: uuid.UUID, data: MessageUpdate, messenger: Messenger
) -> MessageRead:
    """Edit your own message; `edited_at` is set."""
    return MessageRead.model_validate(await messenger.edit_message(message_id, data))


@router.delete("/{message_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_message(message_id: uuid.UUID, messenger: Messenger) -> None:
    """Delete your own message, or any message as an admin (soft)."""
    await messenger.delete_message(message_id)
