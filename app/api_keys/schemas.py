"""Request and response bodies of API keys, and their filters. None of them carries a hash."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import Select

from app.api_keys.models import ApiKey
from app.api_keys.repository import live
from core.db import utcnow
from core.fields import Timestamp
from core.filtering import Filter, FilterSet
from core.schemas import CreateSchema, ReadSchema, UpdateSchema
from core.security import Scope


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
    """`?user_id=` (admins), `?active=` (neither revoked, expired nor ended by an account-wide
    revocation such as a password change)."""

    user_id: uuid.UUID | None = Filter(ApiKey.user_id)
    active: bool | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        stmt = super().apply(stmt)
        if self.active is not None:
            usable = live(utcnow())
            stmt = stmt.where(usable if self.active else ~usable)
        return stmt
