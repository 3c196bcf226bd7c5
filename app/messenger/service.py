"""`MessengerService`: the messenger's use cases, each write one transaction (`atomic()`)."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from app.messenger.controllers import MessageController, ThreadController
from app.messenger.models import Message, Thread
from app.messenger.repository import ActiveUserRepository
from app.messenger.schemas import (
    MessageCreate,
    MessageUpdate,
    ParticipantsAdd,
    ThreadCreate,
    ThreadUpdate,
)
from core.errors import InvalidInput, field_error
from core.repository import CursorResult
from core.service import ControllerService


class MessengerService(ControllerService):
    @property
    def threads(self) -> ThreadController:
        return self.controller(ThreadController)

    @property
    def messages(self) -> MessageController:
        return self.controller(MessageController)

    async def _require_active_users(self, ids: Sequence[uuid.UUID], field: str) -> None:
        """422 naming every id (by its position in the body) that is not an existing, active
        user. The caller is active by definition (their token was just checked)."""
        me = self.threads.me
        active = await ActiveUserRepository(self.session).active_ids(set(ids) - {me}) | {me}
        bad = [(i, uid) for i, uid in enumerate(ids) if uid not in active]
        if bad:
            raise InvalidInput(
                "Some users do not exist or are not active.",
                errors=[
                    field_error(["body", field, i], f"User {uid} does not exist or is not active.")
                    for i, uid in bad
                ],
            )

    # -- threads ------------------------------------------------------------------------------

    async def create_thread(self, data: ThreadCreate) -> Thread:
        """The thread, its creator and the (deduplicated) participants, all or nothing."""
        async with self.atomic():
            await self._require_active_users(data.participant_ids, "participant_ids")
            thread = await self.threads.create(data)
            return await self.threads.reload(thread)

    async def rename_thread(self, thread_id: uuid.UUID, data: ThreadUpdate) -> Thread:
        async with self.atomic():
            return await self.threads.update(thread_id, data)

    async def delete_thread(self, thread_id: uuid.UUID) -> None:
        async with self.atomic():
            await self.threads.delete(thread_id)

    async def add_participants(self, thread_id: uuid.UUID, data: ParticipantsAdd) -> Thread:
        async with self.atomic():
            thread = await self.threads.get_plain(thread_id, for_update=True)
            self.threads.require_manager(thread)  # before telling anyone which user ids exist
            await self._require_active_users(data.user_ids, "user_ids")
            await self.threads.add_participants(thread, data.user_ids)
            return await self.threads.reload(thread)

    async def remove_participant(self, thread_id: uuid.UUID, user_id: uuid.UUID) -> None:
        async with self.atomic():
            thread = await self.threads.get_plain(thread_id, for_update=True)
            await self.threads.remove_participant(thread, user_id)

    # -- messages -----------------------------------------------------------------------------

    async def send_message(self, thread_id: uuid.UUID, data: MessageCreate) -> Message:
        """Post as the caller and move the thread's activity, in one transaction.

        The thread row is locked first, so concurrent posts to one thread update it in order.
        """
        async with self.atomic():
            thread = await self.threads.get_plain(thread_id, for_update=True)
            message = await self.messages.create_in(thread, data)
            await self.threads.record_message(thread, message.created_at)
            return message

    async def list_messages(
        self,
        thread_id: uuid.UUID,
        *,
        since: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> CursorResult[Message]:
        thread = await self.threads.get_plain(thread_id)
        return await self.messages.list_in(thread, since=since, cursor=cursor, limit=limit)

    async def edit_message(self, message_id: uuid.UUID, data: MessageUpdate) -> Message:
        async with self.atomic():
            return await self.messages.update(message_id, data)

    async def delete_message(self, message_id: uuid.UUID) -> None:
        async with self.atomic():
            await self.messages.delete(message_id)
