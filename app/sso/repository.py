"""Data access for linked identities and the flow's single-use tickets."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select

from app.sso.models import SsoTicket, UserIdentity
from core.repository import BaseRepository


class IdentityRepository(BaseRepository[UserIdentity]):
    model = UserIdentity
    conflict_detail = "This provider account is already linked to a user."

    def by_subject(self, provider: str, subject: str) -> Select[UserIdentity]:
        return self.select().where(
            UserIdentity.provider == provider, UserIdentity.subject == subject
        )

    async def count_of(self, user_id: uuid.UUID) -> int:
        stmt = select(func.count()).where(UserIdentity.user_id == user_id)
        return int((await self.session.execute(stmt)).scalar_one())


class SsoTicketRepository(BaseRepository[SsoTicket]):
    model = SsoTicket

    async def put(self, ticket: SsoTicket, now: datetime) -> None:
        """Store `ticket`, clearing out the expired ones on the way."""
        await self.session.execute(delete(SsoTicket).where(SsoTicket.expires_at <= now))
        await self.add(ticket)

    async def take(self, kind: str, key_hash: str, now: datetime) -> dict[str, Any] | None:
        """The live ticket's payload, removed in the same statement: one caller ever gets it."""
        result = await self.session.execute(
            delete(SsoTicket)
            .where(SsoTicket.key_hash == key_hash, SsoTicket.kind == kind)
            .returning(SsoTicket.payload, SsoTicket.expires_at)
        )
        row = result.one_or_none()
        if row is None or row.expires_at <= now:
            return None
        payload: dict[str, Any] = row.payload
        return payload
