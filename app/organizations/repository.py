"""Statements over organizations, memberships and invitations."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import joinedload

from app.organizations.models import Invitation, Membership, Organization, OrganizationRole
from app.users.models import User
from core.repository import BaseRepository


class OrganizationRepository(BaseRepository[Organization]):
    model = Organization


class MembershipRepository(BaseRepository[Membership]):
    model = Membership
    not_found_detail = "The member does not exist."
    load_options = (joinedload(Membership.user),)

    def of(self, organization_id: uuid.UUID, user_id: uuid.UUID) -> Select[Membership]:
        """The live membership of `user_id` in `organization_id`."""
        return self.select().where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )

    async def owners(self, organization_id: uuid.UUID) -> int:
        """How many owners the organization has."""
        stmt = self.select().where(
            Membership.organization_id == organization_id, Membership.role == OrganizationRole.OWNER
        )
        return await self.count(stmt)

    async def roles_of(
        self, user_id: uuid.UUID, organization_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, OrganizationRole]:
        """`user_id`'s role in each of `organization_ids` they belong to, in one query."""
        stmt = select(Membership.organization_id, Membership.role).where(
            Membership.user_id == user_id,
            Membership.organization_id.in_(organization_ids),
            Membership.deleted_at.is_(None),
        )
        return {row.organization_id: row.role for row in await self.session.execute(stmt)}

    async def has_member_with_email(self, organization_id: uuid.UUID, email: str) -> bool:
        """Whether a live member of the organization has the address `email`."""
        stmt = (
            self.select()
            .join(User, User.id == Membership.user_id)
            .where(Membership.organization_id == organization_id, func.lower(User.email) == email)
        )
        return await self.exists(stmt)


class InvitationRepository(BaseRepository[Invitation]):
    model = Invitation

    def by_hash(self, token_hash: str) -> Select[Invitation]:
        return self.select().where(Invitation.token_hash == token_hash)

    def pending(self, organization_id: uuid.UUID, email: str, now: datetime) -> Select[Invitation]:
        """The open invitations of `email` into the organization."""
        return self.select().where(
            Invitation.organization_id == organization_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )

    async def claim(self, invitation_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> bool:
        """Accept an open invitation; True for exactly one of concurrent callers."""
        claim = (
            update(Invitation)
            .where(
                Invitation.id == invitation_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(accepted_at=now, accepted_by_id=user_id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return await self.execute_write(claim) == 1
