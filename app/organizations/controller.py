"""Organizations, their members and invitations, each scoped to the caller's memberships.

`OrganizationController` checks roles by hand (an organization is its own tenant);
`MembershipController` and `InvitationController` are organization-scoped through
`tenant = in_organization(...)` (core/tenancy.py), like any entity of yours can be.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select

from app.organizations.invitations import INVITATION_LIFETIME, send_invitation, token_hash
from app.organizations.models import Invitation, Membership, Organization, OrganizationRole
from app.organizations.repository import (
    InvitationRepository,
    MembershipRepository,
    OrganizationRepository,
)
from app.organizations.schemas import (
    InvitationCreate,
    InvitationUpdate,
    MemberUpdate,
    OrganizationCreate,
    OrganizationUpdate,
)
from app.organizations.tenancy import MEMBERS, in_organization
from configs import get_settings
from core import audit
from core.audit import Audit, AuditEntry, AuditFilters, AuditRepository
from core.controller import Action, BaseController
from core.db import new_id, utcnow
from core.errors import Conflict, Forbidden, NotFound
from core.pagination import CursorParams, OffsetPagination
from core.platform.jobs import enqueue_after_commit
from core.repository import CursorResult
from core.tenancy import Roles

ORGANIZATION_ROLES = Roles(update=OrganizationRole.ADMIN, delete=OrganizationRole.OWNER)
AUDIT_READERS = in_organization(Roles(read=OrganizationRole.ADMIN))
"""Who reads an organization's audit log: its admins and owners."""
LAST_OWNER = "The last owner cannot leave or be demoted: transfer ownership first."
OWNERS_ONLY = "Only an owner can do this."


class OrganizationController(
    BaseController[Organization, OrganizationCreate, OrganizationUpdate, OrganizationRepository]
):
    """The caller's organizations: create (the caller owns it), list, read, rename (admins),
    delete (owners; soft, with every membership)."""

    audit = Audit(entity="organization", organization="id")
    pagination = OffsetPagination(
        sort={"name": Organization.name, "created_at": Organization.created_at}
    )

    def visible(self, stmt: Select[Organization], action: Action) -> Select[Organization]:
        stmt = super().visible(stmt, action)
        return stmt.where(MEMBERS.includes(Organization.id, self.me.id))

    async def check_object(self, obj: Organization, action: Action) -> None:
        required = ORGANIZATION_ROLES.required(action)
        if required is None:
            return
        role = await MEMBERS.role(self.session, obj.id, self.me.id)
        if role is None or not MEMBERS.outranks(role, required):
            raise Forbidden(f"This needs the {required} role in this organization.")

    async def perform_create(self, data: OrganizationCreate, **values: Any) -> Organization:
        organization = await super().perform_create(data, **values)
        owner = Membership(
            organization_id=organization.id, user_id=self.me.id, role=OrganizationRole.OWNER
        )
        await self.controller(MembershipController).repository.add(owner)
        self.controller(MembershipController).joined(owner)
        return organization

    async def perform_delete(self, obj: Organization) -> None:
        await super().perform_delete(obj)
        members = self.controller(MembershipController).repository
        everyone = members.select().where(Membership.organization_id == obj.id)
        user_ids = await members.user_ids(obj.id)
        await members.soft_delete_where(everyone)
        for user_id in user_ids:  # every membership ends: its hooks run for each
            await MEMBERS.removed(self, obj.id, user_id)

    async def audit_log(
        self, organization_id: uuid.UUID, filters: AuditFilters, page: CursorParams
    ) -> CursorResult[AuditEntry]:
        """A page of the organization's audit log, for its admins (404 non-member, 403
        member)."""
        await AUDIT_READERS.check(self.session, organization_id, self.me.id, Action.READ)
        return await AuditRepository(self.session).page(
            filters, page, organization_id=organization_id
        )

    async def annotate(self, rows: Sequence[Organization]) -> None:
        members = self.controller(MembershipController).repository
        roles = await members.roles_of(self.me.id, [row.id for row in rows])
        for row in rows:
            row.role = roles.get(row.id)


class MembershipController(
    BaseController[Membership, MemberUpdate, MemberUpdate, MembershipRepository]
):
    """An organization's members: every member lists them; admins change roles and remove
    members; only owners touch an owner's role; the last owner stays. A membership that ends
    runs `MEMBERS.on_removed` hooks (other domains letting go, e.g. the messenger's threads)."""

    tenant = in_organization(Roles(write=OrganizationRole.ADMIN))
    audit = Audit(entity="membership")
    pagination = OffsetPagination(
        sort={"created_at": Membership.created_at, "role": Membership.role}
    )

    async def perform_update(self, obj: Membership, data: MemberUpdate) -> Membership:
        if OrganizationRole.OWNER in (obj.role, data.role):
            await self.require_owner(obj.organization_id)
        if obj.role is OrganizationRole.OWNER and data.role is not OrganizationRole.OWNER:
            await self._keep_an_owner(obj.organization_id)
        return await super().perform_update(obj, data)

    async def perform_delete(self, obj: Membership) -> None:
        if obj.role is OrganizationRole.OWNER:
            if obj.user_id != self.me.id:
                await self.require_owner(obj.organization_id)
            await self._keep_an_owner(obj.organization_id)
        await super().perform_delete(obj)
        await MEMBERS.removed(self, obj.organization_id, obj.user_id)

    async def leave(self, organization_id: uuid.UUID) -> None:
        """End the caller's own membership (404 for a non-member; 409 for the last owner)."""
        mine = await self._mine(organization_id)
        if mine.role is OrganizationRole.OWNER:
            await self._keep_an_owner(organization_id)
        await self.repository.soft_delete(mine)
        await MEMBERS.removed(self, organization_id, self.me.id)
        self._event("leave", mine)

    def joined(self, membership: Membership) -> None:
        """Record a membership that began outside `create` (a new organization's owner, an
        accepted invitation)."""
        changes = {"user_id": membership.user_id, "role": membership.role}
        self._event("create", membership, changes)

    async def transfer(self, organization_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
        """Make member `user_id` an owner and the calling owner an admin."""
        mine = await self._mine(organization_id)
        if mine.role is not OrganizationRole.OWNER:
            raise Forbidden(OWNERS_ONLY)
        target = await self.repository.one(self.repository.of(organization_id, user_id))
        if target.id == mine.id:
            raise Conflict("You already own this organization.")
        self._event("transfer", target, _role_change(target.role, OrganizationRole.OWNER))
        self._event("transfer", mine, _role_change(mine.role, OrganizationRole.ADMIN))
        await self.repository.update(target, {"role": OrganizationRole.OWNER})
        await self.repository.update(mine, {"role": OrganizationRole.ADMIN})
        return await self.as_read(target)

    def _event(self, action: str, membership: Membership, changes: Any = None) -> None:
        audit.record(
            self,
            action,
            entity="membership",
            entity_id=membership.id,
            organization_id=membership.organization_id,
            changes=changes,
        )

    async def _mine(self, organization_id: uuid.UUID) -> Membership:
        """The caller's membership, the organization locked (role changes are serialised)."""
        await self._lock(organization_id)
        mine = await self.repository.one_or_none(self.repository.of(organization_id, self.me.id))
        if mine is None:
            raise NotFound("The organization does not exist.")
        return mine

    async def require_owner(self, organization_id: uuid.UUID) -> None:
        """403 unless the caller owns the organization."""
        if await MEMBERS.role(self.session, organization_id, self.me.id) != OrganizationRole.OWNER:
            raise Forbidden(OWNERS_ONLY)

    async def _keep_an_owner(self, organization_id: uuid.UUID) -> None:
        await self._lock(organization_id)
        if await self.repository.owners(organization_id) <= 1:
            raise Conflict(LAST_OWNER)

    async def _lock(self, organization_id: uuid.UUID) -> None:
        """Lock the organization row: concurrent demotions count owners one after another."""
        organizations = self.controller(OrganizationController).repository
        await organizations.get(organization_id, for_update=True)


class InvitationController(
    BaseController[Invitation, InvitationCreate, InvitationUpdate, InvitationRepository]
):
    """An organization's invitations, for its admins: invite an address (an owner role only
    by owners), list, read, resend, revoke."""

    tenant = in_organization(Roles(read=OrganizationRole.ADMIN, write=OrganizationRole.ADMIN))
    audit = Audit(entity="invitation")
    pagination = OffsetPagination(sort={"created_at": Invitation.created_at})

    async def perform_create(self, data: InvitationCreate, **values: Any) -> Invitation:
        organization_id: uuid.UUID = values["organization_id"]
        if data.role is OrganizationRole.OWNER:
            await self.controller(MembershipController).require_owner(organization_id)
        members = self.controller(MembershipController).repository
        if await members.has_member_with_email(organization_id, data.email):
            raise Conflict("This address belongs to a member already.")
        now = utcnow()
        if await self.repository.exists(self.repository.pending(organization_id, data.email, now)):
            raise Conflict("An invitation to this address is open: resend or revoke it.")
        id_ = new_id()
        invitation = Invitation(
            id=id_,
            email=data.email,
            role=data.role,
            invited_by_id=self.me.id,
            token_hash=token_hash(get_settings().secret_key, id_, 1),
            sends=1,
            expires_at=now + INVITATION_LIFETIME,
            **values,
        )
        invitation = await self.repository.add(invitation)
        enqueue_after_commit(self, send_invitation, invitation_id=str(id_), sends=1)
        return invitation

    async def perform_delete(self, obj: Invitation) -> None:
        """Revoke: the link stops working; the row stays, listed with `revoked_at`."""
        if obj.accepted_at is not None:
            raise Conflict("The invitation was accepted already.")
        if obj.revoked_at is None:
            await self.repository.update(obj, {"revoked_at": utcnow()})

    async def resend(self, invitation: Invitation) -> Invitation:
        """A new link (the old one stops working) with a fresh lifetime."""
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise Conflict("The invitation is no longer open.")
        sends = invitation.sends + 1
        values = {
            "sends": sends,
            "token_hash": token_hash(get_settings().secret_key, invitation.id, sends),
            "expires_at": utcnow() + INVITATION_LIFETIME,
        }
        invitation = await self.repository.update(invitation, values)
        audit.record(
            self,
            "resend",
            entity="invitation",
            entity_id=invitation.id,
            organization_id=invitation.organization_id,
            changes={"sends": sends},
        )
        enqueue_after_commit(self, send_invitation, invitation_id=str(invitation.id), sends=sends)
        return invitation


def _role_change(before: OrganizationRole, after: OrganizationRole) -> dict[str, Any]:
    return {"role": {"before": before, "after": after}}
