"""/organizations: your organizations, their members and invitations; /invitations/accept.

Every route answers 404 to a non-member, as for an organization that does not exist, and 403
to a member whose role is too low (members read; admins manage members and invitations; owners
delete the organization and hand out the owner role).
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.organizations.controller import (
    InvitationController,
    MembershipController,
    OrganizationController,
)
from app.organizations.limits import INVITATION_SENDS
from app.organizations.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationRead,
    MemberRead,
    OrganizationRead,
    OwnershipTransfer,
)
from app.organizations.service import InvitationService
from core.audit import AuditFilters, AuditRead
from core.controller import Action
from core.crud import CrudRouter
from core.deps import provide
from core.openapi import operation_ids, problem_responses
from core.pagination import CursorPage, CursorParams, cursor_params
from core.routing import read_only

TAGS: list[Any] = ["organizations"]
router = CrudRouter(
    OrganizationController,
    OrganizationRead,
    prefix="/organizations",
    tags=TAGS,
    exclude=["restore"],
)
"""Included with the authenticated gate: create (you own it), yours, one, rename (admins),
delete (owners), leave, transfer ownership."""
members = CrudRouter(
    MembershipController,
    MemberRead,
    prefix="/organizations/{organization_id}/members",
    tags=TAGS,
    exclude=["create", "restore"],
)
"""Members list and read the members; admins change roles and remove members."""
invitations = CrudRouter(
    InvitationController,
    InvitationRead,
    prefix="/organizations/{organization_id}/invitations",
    tags=TAGS,
    exclude=["update", "restore"],
)
"""Admins invite addresses, list, resend and revoke invitations."""
accept_router = APIRouter(
    prefix="/invitations", tags=TAGS, generate_unique_id_function=operation_ids("invitations")
)
"""Included with the authenticated gate: the invitee accepts."""

Organizations = Annotated[OrganizationController, Depends(provide(OrganizationController))]
Members = Annotated[MembershipController, Depends(provide(MembershipController))]
Invitations = Annotated[InvitationController, Depends(provide(InvitationController))]
Accepting = Annotated[InvitationService, Depends(provide(InvitationService))]


@router.post(
    "/{organization_id}/leave",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 409),
)
async def leave(organization_id: uuid.UUID, members: Members) -> None:
    """Leave the organization (the last owner cannot: transfer ownership first)."""
    await members.leave(organization_id)


@router.post(
    "/{organization_id}/transfer",
    response_model=MemberRead,
    responses=problem_responses(403, 404, 409),
)
async def transfer(organization_id: uuid.UUID, data: OwnershipTransfer, members: Members) -> Any:
    """Owners: make a member an owner; you become an admin."""
    return await members.transfer(organization_id, data.user_id)


@invitations.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationRead,
    responses=problem_responses(403, 404, 409, 429),
)
async def invite(
    organization_id: uuid.UUID,
    data: InvitationCreate,
    request: Request,
    response: Response,
    invitations: Invitations,
) -> Any:
    """Admins: invite an address with a role (only owners invite owners). The address gets a
    link that works once, for 7 days; whether it has an account changes nothing here."""
    await INVITATION_SENDS.hit(request, data.email, response)
    return await invitations.create(data, parent_id=organization_id)


@invitations.post(
    "/{invitation_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InvitationRead,
    responses=problem_responses(403, 404, 409, 429),
)
async def resend(
    organization_id: uuid.UUID,
    invitation_id: uuid.UUID,
    request: Request,
    response: Response,
    invitations: Invitations,
) -> Any:
    """Admins: send an open invitation again, with a new link (the old one stops working)."""
    invitation = await invitations.get(
        invitation_id, parent_id=organization_id, action=Action.UPDATE, for_update=True
    )
    await INVITATION_SENDS.hit(request, invitation.email, response)
    return await invitations.resend(invitation)


@router.get(
    "/{organization_id}/audit",
    response_model=CursorPage[AuditRead],
    responses=problem_responses(403, 404),
)
@read_only
async def audit_log(
    organization_id: uuid.UUID,
    filters: Annotated[AuditFilters, Query()],
    page: Annotated[CursorParams, Depends(cursor_params)],
    organizations: Organizations,
) -> Any:
    """Admins: the organization's audit log, newest first — changes to the organization, its
    members, invitations and organization-scoped entities, with who made them. Filter by actor,
    entity, action and time; pass `next_cursor` back as `cursor` for older entries."""
    return await organizations.audit_log(organization_id, filters, page)


@accept_router.post(
    "/accept", response_model=OrganizationRead, responses=problem_responses(400, 403, 409)
)
async def accept(data: InvitationAccept, service: Accepting) -> Any:
    """Join the organization of an invitation sent to your (confirmed) address, with its role."""
    return await service.accept(data.token)


ROUTERS = (router, members, invitations, accept_router)
"""Every router of organizations, each included with the authenticated gate."""
