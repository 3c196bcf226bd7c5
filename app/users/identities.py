"""Identities: a user's accounts at OpenID providers (provider + subject), linked to one user.

Listed and unlinked on /users/me/identities; the last way to sign in is never unlinked.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Select, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column

from core.controller import BaseController, Owner
from core.db import CommonBase
from core.errors import Conflict
from core.repository import BaseRepository
from core.schemas import CreateSchema, ReadSchema, UpdateSchema

LAST_WAY_IN = (
    "This is the only way to sign in to the account: link another provider or set a password "
    "before unlinking it."
)


class UserIdentity(CommonBase):
    """The account `subject` at `provider` (a name from SSO_PROVIDERS) belongs to `user_id`."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class IdentityRead(ReadSchema):
    """A linked identity as its owner sees it."""

    provider: str
    subject: str
    email: str | None
    last_login_at: datetime | None


class IdentityCreate(CreateSchema):
    """Never sent by clients: identities are made by the SSO callback only."""


class IdentityUpdate(UpdateSchema):
    """Identities are not edited."""


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


class IdentityController(
    BaseController[UserIdentity, IdentityCreate, IdentityUpdate, IdentityRepository]
):
    """The caller's own identities: list, read, unlink (a hard delete, so the provider account
    can be linked again elsewhere)."""

    owner = Owner("user_id")

    async def perform_delete(self, obj: UserIdentity) -> None:
        passwordless = self.me.account.hashed_password is None
        if passwordless and await self.repository.count_of(obj.user_id) <= 1:
            raise Conflict(LAST_WAY_IN)
        await self.repository.hard_delete(obj)

    async def perform_create(self, data: IdentityCreate, **values: Any) -> UserIdentity:
        raise NotImplementedError("identities are created by the SSO callback")
