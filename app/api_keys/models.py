"""API keys of users."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import CommonBase


class ApiKey(CommonBase):
    """One API key of `user_id`: its name, the scopes it may use, expiry and revocation.

    `token_version` is the owner's `User.token_version` when the key was made: the key works
    only while they are equal, so whatever ends every session of the account (a password reset
    or change, logout-all, deletion, deactivation, demotion) ends every key with it."""

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
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
