"""`InvitationService`: accepting an invitation, which the invitee does before being a member
(so outside the organization-scoped controllers)."""

from app.organizations.controller import MembershipController, OrganizationController
from app.organizations.models import Invitation, Membership, Organization
from app.organizations.repository import InvitationRepository
from app.users.controller import UserController
from app.users.tokens import secret_hash
from core import audit
from core.db import utcnow
from core.errors import BadRequest, Conflict, Forbidden
from core.service import ControllerService

INVALID_INVITATION = "The invitation is invalid, was already used, revoked or has expired."
OTHER_ADDRESS = (
    "This invitation was sent to another address: sign in with the account of the address "
    "it was sent to, and confirm that address first."
)


class InvitationService(ControllerService):
    """Accept an invitation: the caller joins its organization with its role."""

    @property
    def invitations(self) -> InvitationRepository:
        return InvitationRepository(self.session)

    async def accept(self, token: str) -> Organization:
        """Join with the invitation's role. The caller's verified address must be the invited
        one (403 otherwise); a used, revoked, expired or unknown token is one and the same
        400; a member already is a 409."""
        invitation = await self._open(token)
        me = await self.controller(UserController).caller_account()
        if not me.email_verified or me.email.lower() != invitation.email:
            raise Forbidden(OTHER_ADDRESS)
        members = self.controller(MembershipController).repository
        if await members.exists(members.of(invitation.organization_id, me.id)):
            raise Conflict("You are a member of this organization already.")
        if not await self.invitations.claim(invitation.id, me.id, utcnow()):
            raise BadRequest(INVALID_INVITATION)
        role = invitation.role
        joined = Membership(organization_id=invitation.organization_id, user_id=me.id, role=role)
        await members.add(joined)
        audit.record(
            self,
            "accept",
            entity="invitation",
            entity_id=invitation.id,
            organization_id=invitation.organization_id,
        )
        self.controller(MembershipController).joined(joined)
        return await self.controller(OrganizationController).get(invitation.organization_id)

    async def _open(self, token: str) -> Invitation:
        invitation = await self.invitations.one_or_none(
            self.invitations.by_hash(secret_hash(token))
        )
        if (
            invitation is None
            or invitation.accepted_at is not None
            or invitation.revoked_at is not None
            or invitation.expires_at <= utcnow()
        ):
            raise BadRequest(INVALID_INVITATION)
        organizations = self.controller(OrganizationController).repository
        if not await organizations.exists(organizations.by_id(invitation.organization_id)):
            raise BadRequest(INVALID_INVITATION)
        return invitation
