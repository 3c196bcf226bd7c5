"""Provider accounts linked to users, and the single-use tickets of the browser flow."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import CommonBase, Entity


class UserIdentity(CommonBase):
    """The account `subject` at `provider` (a name from SSO_PROVIDERS) belongs to `user_id`."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class SsoTicket(Entity):
    """A single-use value (flow state, one-time sign-in code, link ticket), stored hashed."""

    __tablename__ = "sso_tickets"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)
