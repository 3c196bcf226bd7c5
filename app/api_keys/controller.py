"""`ApiKeyController`: the caller's own keys; `ApiKeyAdminController`: everyone's."""

from typing import Any, ClassVar

from app.api_keys.authentication import require_person
from app.api_keys.keys import SHOWN_PREFIX_LENGTH, generate_key, key_hash
from app.api_keys.models import ApiKey
from app.api_keys.repository import ApiKeyRepository
from app.api_keys.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyFilters,
    ApiKeyRead,
    ApiKeyUpdate,
)
from app.users.controller import SUPERUSERS_ONLY
from app.users.repository import UserRepository
from configs import get_settings
from core.audit import Audit
from core.controller import Action, BaseController, Owner
from core.db import utcnow
from core.errors import Conflict, Forbidden, InvalidInput, field_error
from core.pagination import OffsetPagination
from core.security import Scope, expand_scopes


class ApiKeyController(BaseController[ApiKey, ApiKeyCreate, ApiKeyUpdate, ApiKeyRepository]):
    """The caller's own keys: create (secret shown once), list, read, revoke."""

    owner: ClassVar[Owner | None] = Owner("user_id")
    audit = Audit(entity="api_key")
    filterset = ApiKeyFilters
    pagination = OffsetPagination(sort={"created_at": ApiKey.created_at, "name": ApiKey.name})

    async def issue(self, data: ApiKeyCreate) -> ApiKeyCreated:
        """Create a key with `data.scopes` — each one the caller holds now — and return it with
        its secret. An API key cannot create keys."""
        require_person(self.me)
        scopes = sorted({scope.value for scope in data.scopes})
        if not expand_scopes(scopes) <= self.me.scopes:
            raise InvalidInput(
                errors=[field_error(["body", "scopes"], "Only scopes you hold can be given.")]
            )
        if data.expires_at is not None and data.expires_at <= utcnow():
            raise InvalidInput(errors=[field_error(["body", "expires_at"], "Must be in future.")])
        await self._require_room()
        key = generate_key()
        row = await self.create(
            data, prefix=key[:SHOWN_PREFIX_LENGTH], key_hash=key_hash(key), scopes=scopes
        )
        return ApiKeyCreated(**ApiKeyRead.model_validate(row).model_dump(), key=key)

    async def _require_room(self) -> None:
        """409 when the caller holds AUTH_MAX_API_KEYS_PER_USER usable keys already (their user
        row locked, so two concurrent creations cannot both take the last place)."""
        await UserRepository(self.session).get(self.me.id, for_update=True)
        cap = get_settings().auth.max_api_keys_per_user
        if await self.repository.count_live(self.me.id, utcnow()) >= cap:
            raise Conflict(f"You hold {cap} API keys, the most allowed: revoke one first.")

    async def perform_create(self, data: ApiKeyCreate, **values: Any) -> ApiKey:
        version = self.me.account.token_version  # the key lives until the account's next bump
        row = ApiKey(
            name=data.name,
            expires_at=data.expires_at,
            user_id=self.me.id,
            token_version=version,
            **values,
        )
        return await self.repository.add(row)

    async def perform_delete(self, obj: ApiKey) -> None:
        """Revoke (the row stays, listed with `revoked_at`)."""
        if obj.revoked_at is None:
            await self.repository.update(obj, {"revoked_at": utcnow()})


class ApiKeyAdminController(ApiKeyController):
    """Every user's keys, for admins: list (filter by `user_id`), read, revoke (a superuser's
    key only by a superuser, as for every other change to a superuser)."""

    owner = None

    async def check_object(self, obj: ApiKey, action: Action) -> None:
        if action is not Action.DELETE or self.me.has(Scope.SUPERUSER):
            return
        users = UserRepository(self.session)
        holder = await users.one_or_none(users.by_id(obj.user_id))
        if holder is not None and Scope.SUPERUSER in holder.scopes:
            raise Forbidden(SUPERUSERS_ONLY)
