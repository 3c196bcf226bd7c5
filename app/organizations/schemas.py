"""Request and response bodies of organizations, members and invitations."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.organizations.models import OrganizationRole
from app.users.schemas import Email
from core.fields import Text
from core.schemas import CreateSchema, InputSchema, ReadSchema, UpdateSchema

Name = Field(min_length=1, max_length=200)


class OrganizationCreate(CreateSchema):
    name: Text = Name


class OrganizationUpdate(UpdateSchema):
    name: Text = Name


class OrganizationRead(ReadSchema):
    name: str
    role: OrganizationRole | None = Field(description="Your role in the organization.")


class MemberUser(BaseModel):
    model_config = {"from_attributes": True}

    id: uuid.UUID
    email: str
    full_name: str


class MemberRead(ReadSchema):
    """A membership: the member, their role, since when (`created_at`)."""

    organization_id: uuid.UUID
    user_id: uuid.UUID
    role: OrganizationRole
    user: MemberUser


class MemberUpdate(UpdateSchema):
    role: OrganizationRole


class OwnershipTransfer(InputSchema):
    user_id: uuid.UUID = Field(description="The member who becomes an owner (you become admin).")


class InvitationCreate(CreateSchema):
    email: Email
    role: OrganizationRole = OrganizationRole.MEMBER


class InvitationUpdate(UpdateSchema):
    """Invitations are not edited: revoke and invite again."""


class InvitationRead(ReadSchema):
    organization_id: uuid.UUID
    email: str
    role: OrganizationRole
    invited_by_id: uuid.UUID | None
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationAccept(InputSchema):
    token: str = Field(min_length=1, max_length=200)
