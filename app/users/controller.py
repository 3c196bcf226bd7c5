"""`UserController`: users as admins see them, and the account writes every flow shares."""

import uuid
from collections.abc import Iterable
from typing import Any

from app.users.models import User
from app.users.repository import AuthSessionRepository, UserRepository
from app.users.schemas import ScopesUpdate, UserAdminUpdate, UserFilters, UserRegister
from app.users.tokens import password_hasher
from core import audit
from core.audit import Audit
from core.controller import Action, BaseController
from core.errors import Conflict, Forbidden, Unauthorized
from core.pagination import OffsetPagination
from core.security import Scope, expand_scopes

SUPERUSERS_ONLY = "Only a superuser may change a superuser."


class UserController(BaseController[User, UserRegister, UserAdminUpdate, UserRepository]):
    """Users as admins see them: every user, filtered and sorted; writes revoke tokens."""

    audit = Audit(entity="user")
    filterset = UserFilters
    pagination = OffsetPagination(
        sort={"created_at": User.created_at, "email": User.email, "full_name": User.full_name}
    )

    async def check_object(self, obj: User, action: Action) -> None:
        # Only a superuser may change, delete or restore a superuser.
        principal = self.principal
        if action is Action.READ or principal is None or principal.has(Scope.SUPERUSER):
            return
        if Scope.SUPERUSER in obj.scopes:
            raise Forbidden(SUPERUSERS_ONLY)

    async def perform_update(self, obj: User, data: UserAdminUpdate) -> User:
        values = data.model_dump(exclude_unset=True, exclude_none=True)
        if values.get("is_active") is False and obj.is_active:
            await self.revoke_all_sessions(obj)
        return await self.repository.update(obj, values)

    async def perform_delete(self, obj: User) -> None:
        await self.revoke_all_sessions(obj)
        await self.repository.soft_delete(obj)

    async def perform_create(self, data: UserRegister, **values: Any) -> User:
        """Insert a user with exactly `scopes` (never from the request body); 409 if taken."""
        scopes: Iterable[str] = values.pop("scopes")
        hashed = await password_hasher().hash(data.password)  # before holding a connection
        if await self.repository.exists(self.repository.by_email(data.email)):
            raise Conflict(self.repository.conflict_detail)
        user = User(
            email=data.email,
            hashed_password=hashed,
            full_name=data.full_name,
            scopes=sorted(set(scopes)),
        )
        return await self.repository.add(user)

    async def set_scopes(self, user_id: uuid.UUID, data: ScopesUpdate) -> User:
        """Replace a user's scopes; losing any scope revokes their tokens at once."""
        user = await self.get(user_id, action=Action.UPDATE, for_update=True)
        new_scopes = sorted({scope.value for scope in data.scopes})
        if expand_scopes(user.scopes) - expand_scopes(new_scopes):
            await self.revoke_all_sessions(user)
        changes = {"scopes": {"before": list(user.scopes), "after": new_scopes}}
        audit.record(self, "scopes", entity="user", entity_id=user.id, changes=changes)
        return await self.repository.update(user, {"scopes": new_scopes})

    async def caller_account(self) -> User:
        """The caller's user entity in this unit of work, to change it (`Principal.account` is
        the read-only snapshot the token check took); 401 if it is gone since."""
        user = await self.repository.one_or_none(self.repository.by_id(self.me.id))
        if user is None or not user.is_active:
            raise Unauthorized()
        return user

    async def revoke_session(self, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
        """End one of `user_id`'s sessions (its refresh and access tokens stop working), as
        logging out there would; changing a superuser's needs a superuser."""
        user = await self.get(user_id, action=Action.UPDATE)
        await AuthSessionRepository(self.session).revoke_of(user.id, session_id)

    async def revoke_all_sessions(self, user: User) -> None:
        """Kill every token of the user at once: bump the version, close every session."""
        await self.repository.revoke_all_tokens(user)
        await AuthSessionRepository(self.session).revoke_all_of(user.id)
