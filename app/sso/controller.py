"""`IdentityController`: the caller's own linked provider accounts."""

from typing import Any

from app.sso.models import UserIdentity
from app.sso.repository import IdentityRepository
from app.sso.schemas import IdentityCreate, IdentityUpdate
from core.controller import BaseController, Owner
from core.errors import Conflict

LAST_WAY_IN = (
    "This is the only way to sign in to the account: link another provider or set a password "
    "before unlinking it."
)


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
