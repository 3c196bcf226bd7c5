from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.organization_role import OrganizationRole

T = TypeVar("T", bound="InvitationRead")


@_attrs_define
class InvitationRead:
    """
    Attributes:
        id (UUID):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        organization_id (UUID):
        email (str):
        role (OrganizationRole): A member's role, lowest first: members read, admins manage, owners own.
        invited_by_id (None | UUID):
        expires_at (datetime.datetime):
        accepted_at (datetime.datetime | None):
        revoked_at (datetime.datetime | None):
    """

    id: UUID
    created_at: datetime.datetime
    updated_at: datetime.datetime
    organization_id: UUID
    email: str
    role: OrganizationRole
    invited_by_id: None | UUID
    expires_at: datetime.datetime
    accepted_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        organization_id = str(self.organization_id)

        email = self.email

        role = self.role.value

        invited_by_id: None | str
        if isinstance(self.invited_by_id, UUID):
            invited_by_id = str(self.invited_by_id)
        else:
            invited_by_id = self.invited_by_id

        expires_at = self.expires_at.isoformat()

        accepted_at: None | str
        if isinstance(self.accepted_at, datetime.datetime):
            accepted_at = self.accepted_at.isoformat()
        else:
            accepted_at = self.accepted_at

        revoked_at: None | str
        if isinstance(self.revoked_at, datetime.datetime):
            revoked_at = self.revoked_at.isoformat()
        else:
            revoked_at = self.revoked_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "created_at": created_at,
                "updated_at": updated_at,
                "organization_id": organization_id,
                "email": email,
                "role": role,
                "invited_by_id": invited_by_id,
                "expires_at": expires_at,
                "accepted_at": accepted_at,
                "revoked_at": revoked_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        organization_id = UUID(d.pop("organization_id"))

        email = d.pop("email")

        role = OrganizationRole(d.pop("role"))

        def _parse_invited_by_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                invited_by_id_type_0 = UUID(data)

                return invited_by_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        invited_by_id = _parse_invited_by_id(d.pop("invited_by_id"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        def _parse_accepted_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                accepted_at_type_0 = datetime.datetime.fromisoformat(data)

                return accepted_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        accepted_at = _parse_accepted_at(d.pop("accepted_at"))

        def _parse_revoked_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                revoked_at_type_0 = datetime.datetime.fromisoformat(data)

                return revoked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        revoked_at = _parse_revoked_at(d.pop("revoked_at"))

        invitation_read = cls(
            id=id,
            created_at=created_at,
            updated_at=updated_at,
            organization_id=organization_id,
            email=email,
            role=role,
            invited_by_id=invited_by_id,
            expires_at=expires_at,
            accepted_at=accepted_at,
            revoked_at=revoked_at,
        )

        invitation_read.additional_properties = d
        return invitation_read

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
