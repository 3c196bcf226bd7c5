"""API keys: named credentials for scripts, CI jobs and partner servers.

A key looks like `plk_` + 40 base62 characters + a 6-character CRC32 checksum, so secret
scanners can recognise it and a mistyped key is refused without a database query. Only the
SHA-256 of the key is stored (keys are random, 238 bits: a slow hash adds nothing) and a
unique index on it makes verification one indexed lookup, joined to the owner so revocation,
deactivation and demotion take effect on the next request on every worker. `last_used_at` is
written at most once per LAST_USED_RESOLUTION per key, never on every request.
"""

import hashlib
import re
import secrets
import string
import uuid
import zlib
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field
from sqlalchemy import JSON, ForeignKey, Select, String, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from app.users.models import User
from core.controller import BaseController, Owner
from core.db import CommonBase, Database, utcnow
from core.errors import Forbidden, InvalidInput, Unauthorized, field_error
from core.fields import Timestamp
from core.filtering import Filter, FilterSet
from core.pagination import OffsetPagination
from core.schemas import CreateSchema, ReadSchema, UpdateSchema
from core.security import Principal, Scope, expand_scopes

KEY_PREFIX = "plk_"
_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BODY_LENGTH = 40
_CHECKSUM_LENGTH = 6
_KEY_SHAPE = re.compile(rf"^{KEY_PREFIX}[0-9A-Za-z]{{{_BODY_LENGTH + _CHECKSUM_LENGTH}}}$")
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 8
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_KEY = "The API key is invalid, expired or revoked."
KEYS_NEED_A_PERSON = "API keys cannot manage API keys or sign-in methods; use a signed-in session."


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def generate_key() -> str:
    """A new key: prefix, random body, checksum of the body."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY_LENGTH))
    return f"{KEY_PREFIX}{body}{_base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)}"


def is_api_key(credential: str) -> bool:
    """Whether a bearer credential is meant as an API key (it has our prefix)."""
    return credential.startswith(KEY_PREFIX)


def well_formed(key: str) -> bool:
    """The key's shape and checksum hold (no database needed)."""
    if not _KEY_SHAPE.match(key):
        return False
    body = key[len(KEY_PREFIX) : len(KEY_PREFIX) + _BODY_LENGTH]
    return key[-_CHECKSUM_LENGTH:] == _base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)


def key_hash(key: str) -> str:
    """What is stored: the SHA-256 of the key."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(CommonBase):
    """One API key of `user_id`: its name, the scopes it may use, expiry and revocation."""

    __tablename__ = "api_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists; finds a leaked key
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiKeyCreate(CreateSchema):
    """A new key: a name, a subset of the caller's scopes, an optional expiry."""

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    expires_at: Timestamp | None = None


class ApiKeyUpdate(UpdateSchema):
    """Keys are not edited: revoke and create another."""


class ApiKeyRead(ReadSchema):
    """A key as lists show it: never the secret, only its first characters."""

    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyAdminRead(ApiKeyRead):
    """A key as an admin sees it: with its owner."""

    user_id: uuid.UUID


class ApiKeyCreated(ApiKeyRead):
    """The answer to creating a key: the only time `key` is ever shown."""

    key: str


class ApiKeyFilters(FilterSet):
    """`?user_id=` (admins), `?active=` (neither revoked nor expired)."""

    user_id: uuid.UUID | None = Filter(ApiKey.user_id)
    active: bool | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        stmt = super().apply(stmt)
        if self.active is not None:
            live = ApiKey.revoked_at.is_(None) & or_(
                ApiKey.expires_at.is_(None), ApiKey.expires_at > utcnow()
            )
            stmt = stmt.where(live if self.active else ~live)
        return stmt


class ApiKeyController(BaseController[ApiKey, ApiKeyCreate, ApiKeyUpdate]):
    """The caller's own keys: create (secret shown once), list, read, revoke."""

    owner: ClassVar[Owner | None] = Owner("user_id")
    filterset = ApiKeyFilters
    pagination = OffsetPagination(sort={"created_at": ApiKey.created_at, "name": ApiKey.name})

    async def issue(self, data: ApiKeyCreate) -> ApiKeyCreated:
        """Create a key with `data.scopes` — each one the caller holds now — and return it with
        its secret. An API key cannot create keys."""
        if self.me.api_key_id is not None:
            raise Forbidden(KEYS_NEED_A_PERSON)
        scopes = sorted({scope.value for scope in data.scopes})
        if not expand_scopes(scopes) <= self.me.scopes:
            raise InvalidInput(
                errors=[field_error(["body", "scopes"], "Only scopes you hold can be given.")]
            )
        if data.expires_at is not None and data.expires_at <= utcnow():
            raise InvalidInput(errors=[field_error(["body", "expires_at"], "Must be in future.")])
        key = generate_key()
        row = await self.create(
            data, prefix=key[:SHOWN_PREFIX_LENGTH], key_hash=key_hash(key), scopes=scopes
        )
        return ApiKeyCreated(**ApiKeyRead.model_validate(row).model_dump(), key=key)

    async def perform_create(self, data: ApiKeyCreate, **values: Any) -> ApiKey:
        row = ApiKey(name=data.name, expires_at=data.expires_at, user_id=self.me.id, **values)
        return await self.repository.add(row)

    async def perform_delete(self, obj: ApiKey) -> None:
        """Revoke (the row stays, listed with `revoked_at`)."""
        if obj.revoked_at is None:
            await self.repository.update(obj, {"revoked_at": utcnow()})


class ApiKeyAdminController(ApiKeyController):
    """Every user's keys, for admins: list (filter by `user_id`), read, revoke."""

    owner = None


# One round trip: the key by its unique hash, with its owner's columns (the account snapshot of
# `Principal.account`) joined on the primary key.
_KEY_AND_OWNER = (
    select(
        *User.__table__.columns,
        ApiKey.id.label("key_id"),
        ApiKey.scopes.label("key_scopes"),
        ApiKey.expires_at.label("key_expires_at"),
        ApiKey.revoked_at.label("key_revoked_at"),
        ApiKey.deleted_at.label("key_deleted_at"),
        ApiKey.last_used_at.label("key_last_used_at"),
    )
    .join(User, User.id == ApiKey.user_id)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)


def _usable(row: Any, now: datetime) -> bool:
    expired = row.key_expires_at is not None and row.key_expires_at <= now
    revoked = row.key_revoked_at is not None or row.key_deleted_at is not None
    return not (expired or revoked or row.deleted_at is not None or not row.is_active)


async def _touch(connection: AsyncConnection, row: Any, now: datetime) -> None:
    """Record the use when the stored time is older than LAST_USED_RESOLUTION."""
    stale = now - LAST_USED_RESOLUTION
    if row.key_last_used_at is not None and row.key_last_used_at > stale:
        return
    await connection.execute(
        update(ApiKey)
        .where(ApiKey.id == row.key_id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= stale))
        .values(last_used_at=now)
    )


async def authenticate_api_key(database: Database, key: str) -> Principal:
    """The principal of a live key of an active user; scopes are the key's, narrowed to what
    the owner holds now. Anything else is the same 401."""
    if not well_formed(key):
        raise Unauthorized(INVALID_KEY)
    now = utcnow()
    async with database.autocommit() as connection:
        result = await connection.execute(_KEY_AND_OWNER, {"key_hash": key_hash(key)})
        row = result.one_or_none()
        if row is None or not _usable(row, now):
            raise Unauthorized(INVALID_KEY)
        granted = expand_scopes(row.key_scopes) & expand_scopes(row.scopes)
        if not granted:
            raise Unauthorized(INVALID_KEY)
        await _touch(connection, row, now)
    return Principal(id=row.id, scopes=granted, api_key_id=row.key_id, account=row)
