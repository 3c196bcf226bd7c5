from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.organization_role import OrganizationRole

if TYPE_CHECKING:
    from ..models.member_user import MemberUser


T = TypeVar("T", bound="MemberRead")


@_attrs_define
class MemberRead:
    """A membership: the member, their role, since when (`created_at`).

    Attributes:
        id (UUID):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        organization_id (UUID):
        user_id (UUID):
        role (OrganizationRole): A member's role, lowest first: members read, admins manage, owners own.
        user (MemberUser):
    """

    id: UUID
    created_at: datetime.datetime
    updated_at: datetime.datetime
    organization_id: UUID
    user_id: UUID
    role: OrganizationRole
    user: MemberUser
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        organization_id = str(self.organization_id)

        user_id = str(self.user_id)

        role = self.role.value

        user = self.user.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "created_at": created_at,
                "updated_at": updated_at,
                "organization_id": organization_id,
                "user_id": user_id,
                "role": role,
                "user": user,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.member_user import MemberUser  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        organization_id = UUID(d.pop("organization_id"))

        user_id = UUID(d.pop("user_id"))

        role = OrganizationRole(d.pop("role"))

        user = MemberUser.from_dict(d.pop("user"))

        member_read = cls(
            id=id,
            created_at=created_at,
            updated_at=updated_at,
            organization_id=organization_id,
            user_id=user_id,
            role=role,
            user=user,
        )

        member_read.additional_properties = d
        return member_read

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
