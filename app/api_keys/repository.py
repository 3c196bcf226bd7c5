"""Data access for API keys: the repository of the CRUD routes, and the two statements the
authenticator runs on a connection of its own, outside any unit of work."""

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, Update, and_, bindparam, or_, select, update

from app.api_keys.models import ApiKey
from app.users.models import User
from core.repository import BaseRepository


def live(now: datetime) -> ColumnElement[bool]:
    """A key usable at `now`: not revoked, not expired, and minted at its owner's current token
    version (no account-wide revocation since)."""
    owners_version = select(User.token_version).where(User.id == ApiKey.user_id)
    return and_(
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
        ApiKey.token_version == owners_version.scalar_subquery(),
    )


class ApiKeyRepository(BaseRepository[ApiKey]):
    model = ApiKey

    async def count_live(self, user_id: uuid.UUID, now: datetime) -> int:
        """How many usable keys `user_id` holds at `now`."""
        return await self.count(self.select().where(ApiKey.user_id == user_id, live(now)))

    async def live_ids(self, ids: Collection[uuid.UUID], now: datetime) -> set[uuid.UUID]:
        """Those of `ids` that are keys neither revoked, deleted nor expired at `now` (the
        owner's side — active, token version — is the users' check)."""
        stmt = select(ApiKey.id).where(
            ApiKey.id.in_(ids),
            ApiKey.revoked_at.is_(None),
            ApiKey.deleted_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
        )
        return set(await self.session.scalars(stmt))


KEY_AND_OWNER = (
    select(
        *User.__table__.columns,
        ApiKey.id.label("key_id"),
        ApiKey.scopes.label("key_scopes"),
        ApiKey.expires_at.label("key_expires_at"),
        ApiKey.revoked_at.label("key_revoked_at"),
        ApiKey.deleted_at.label("key_deleted_at"),
        ApiKey.last_used_at.label("key_last_used_at"),
        ApiKey.token_version.label("key_token_version"),
    )
    .join(User, User.id == ApiKey.user_id)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)
"""One round trip: the key by its unique hash (bound as `key_hash`), with its owner's columns
(the account snapshot of `Principal.account`) joined on the primary key. Built once."""


def record_use(key_id: uuid.UUID, now: datetime, stale: datetime) -> Update:
    """Set the key's `last_used_at` to `now`, unless another request set it after `stale`."""
    return (
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= stale))
        .values(last_used_at=now)
    )
