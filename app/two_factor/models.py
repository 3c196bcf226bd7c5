"""A user's TOTP credential, their recovery codes, and the challenges of sign-ins' second step."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Entity


class TotpCredential(Entity):
    """The user's authenticator: its secret, encrypted (`codes.seal`); pending until a first
    code confirms it. `last_used_step` is the time step of the last code accepted: a code of
    that step or an earlier one is refused (no replay)."""

    __tablename__ = "totp_credentials"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    sealed_secret: Mapped[str] = mapped_column(String(255))
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, default=None)


class RecoveryCode(Entity):
    """One single-use recovery code, stored as its SHA-256; `used_at` is set when it is used."""

    __tablename__ = "totp_recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)  # also the index by user

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SignInChallenge(Entity):
    """A sign-in that passed its first factor and waits for a code: the `mfa_token`, stored as
    its SHA-256, with the scopes the session will get. Deleted when answered; void once the
    account's `token_version` moves on (password reset, logout-all) or it expires."""

    __tablename__ = "sign_in_challenges"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    token_version: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)
