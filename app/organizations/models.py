"""Organizations, their members with a role each, and the invitations that bring members in."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.users.models import User
from core.columns import enum_column
from core.db import CommonBase


class OrganizationRole(StrEnum):
    """A member's role, lowest first: members read, admins manage, owners own."""

    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"


class Organization(CommonBase):
    __tablename__ = "organizations"
    __allow_unmapped__ = True  # `role` below is not a column

    name: Mapped[str] = mapped_column(String(200))
    role: OrganizationRole | None = (
        None  # the caller's role, set by OrganizationController.annotate
    )


class Membership(CommonBase):
    """`user_id` belongs to `organization_id` with `role`. Removing a member (or deleting the
    organization) soft-deletes the row, so one live row per member and organization."""

    __tablename__ = "memberships"
    __table_args__ = (
        Index(
            "uq_memberships_organization_id_user_id_live",
            "organization_id",
            "user_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[OrganizationRole] = enum_column(OrganizationRole, default=OrganizationRole.MEMBER)
    user: Mapped[User] = relationship(lazy="raise")


class Invitation(CommonBase):
    """An address invited into an organization with a role. The link's token is never stored:
    `token_hash` is the SHA-256 of an HMAC of the row's id and `sends` (app/organizations/
    invitations.py), so a resend (`sends` + 1) kills the previous link."""

    __tablename__ = "invitations"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))  # normalised (lower-case)
    role: Mapped[OrganizationRole] = enum_column(OrganizationRole, default=OrganizationRole.MEMBER)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sends: Mapped[int] = mapped_column(default=1)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
