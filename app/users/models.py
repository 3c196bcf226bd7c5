"""Users, their login sessions, the refresh tokens those sessions rotate through, and the
one-time tokens of emailed links."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import CommonBase, Entity


class User(CommonBase):
    __tablename__ = "users"
    __table_args__ = (
        # Unique among live rows only: a soft-deleted account frees its email.
        Index(
            "uq_users_email_live",
            "email",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    email: Mapped[str] = mapped_column(String(320))  # stored normalised (lower-case)
    # None for accounts that sign in only through a linked identity provider (SSO).
    hashed_password: Mapped[str | None] = mapped_column(String(255), default=None)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    scopes: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["regular"])
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped to revoke every token of the user at once (logout-all, password change, demotion).
    token_version: Mapped[int] = mapped_column(default=0)
    # Set when the owner followed a verification (or reset, or address-change) link.
    email_verified: Mapped[bool] = mapped_column(default=False, server_default=false())


class AuthSession(CommonBase):
    """One login: the family of refresh tokens it rotates through. Its id is the `sid` claim.

    Revoking it (logout, reuse detection) kills its refresh tokens and its access tokens at once.
    """

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class RefreshToken(CommonBase):
    """One issued refresh token, stored as a hash of its `jti`; `used_at` is set on rotation."""

    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class Purpose(StrEnum):
    """What an emailed link's token lets its holder do (`EmailToken.purpose`)."""

    VERIFY = "verify"
    RESET = "reset"
    CHANGE = "change"


class EmailToken(Entity):
    """A one-time link sent by email (verify, reset, change address), stored as the SHA-256 of
    the token: the token itself is only ever in the message. `used_at` is set when it is
    consumed or superseded; `new_email` is the address an address change moves to."""

    __tablename__ = "email_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    new_email: Mapped[str | None] = mapped_column(String(320), default=None)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
