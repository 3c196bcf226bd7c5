"""Who an API key authenticates as, and what a key may never do."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.api_keys.keys import key_hash, well_formed
from app.api_keys.repository import KEY_AND_OWNER, record_use
from core.db import Database, utcnow
from core.errors import Forbidden, Unauthorized
from core.security import Principal, expand_scopes

LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_KEY = "The API key is invalid, expired or revoked."
KEYS_NEED_A_PERSON = "API keys cannot manage API keys or sign-in methods; use a signed-in session."


def require_person(principal: Principal) -> None:
    """403 when `principal` is an API key: keys never mint keys or link sign-in methods."""
    if principal.api_key_id is not None:
        raise Forbidden(KEYS_NEED_A_PERSON)


def _usable(row: Any, now: datetime) -> bool:
    expired = row.key_expires_at is not None and row.key_expires_at <= now
    revoked = row.key_revoked_at is not None or row.key_deleted_at is not None
    ended = row.key_token_version != row.token_version  # the account's sessions were ended
    return not (expired or revoked or ended or row.deleted_at is not None or not row.is_active)


async def _touch(connection: AsyncConnection, row: Any, now: datetime) -> None:
    """Record the use when the stored time is older than LAST_USED_RESOLUTION."""
    stale = now - LAST_USED_RESOLUTION
    if row.key_last_used_at is not None and row.key_last_used_at > stale:
        return
    await connection.execute(record_use(row.key_id, now, stale))


async def authenticate_api_key(database: Database, key: str) -> Principal:
    """The principal of a live key of an active user; scopes are the key's, narrowed to what
    the owner holds now. Anything else is the same 401."""
    if not well_formed(key):
        raise Unauthorized(INVALID_KEY)
    now = utcnow()
    async with database.autocommit() as connection:
        result = await connection.execute(KEY_AND_OWNER, {"key_hash": key_hash(key)})
        row = result.one_or_none()
        if row is None or not _usable(row, now):
            raise Unauthorized(INVALID_KEY)
        granted = expand_scopes(row.key_scopes) & expand_scopes(row.scopes)
        if not granted:
            raise Unauthorized(INVALID_KEY)
        await _touch(connection, row, now)
    return Principal(id=row.id, scopes=granted, api_key_id=row.key_id, account=row)
