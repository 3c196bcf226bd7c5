from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.role import Role

T = TypeVar("T", bound="ParticipantRead")


@_attrs_define
class ParticipantRead:
    """
    Attributes:
        user_id (UUID):
        full_name (str):
        role (Role): A participant's role in a thread.
        joined_at (datetime.datetime):
        last_read_seq (int): The seq of the last message this participant read.
    """

    user_id: UUID
    full_name: str
    role: Role
    joined_at: datetime.datetime
    last_read_seq: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        user_id = str(self.user_id)

        full_name = self.full_name

        role = self.role.value

        joined_at = self.joined_at.isoformat()

        last_read_seq = self.last_read_seq

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "user_id": user_id,
                "full_name": full_name,
                "role": role,
                "joined_at": joined_at,
                "last_read_seq": last_read_seq,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = UUID(d.pop("user_id"))

        full_name = d.pop("full_name")

        role = Role(d.pop("role"))

        joined_at = datetime.datetime.fromisoformat(d.pop("joined_at"))

        last_read_seq = d.pop("last_read_seq")

        participant_read = cls(
            user_id=user_id,
            full_name=full_name,
            role=role,
            joined_at=joined_at,
            last_read_seq=last_read_seq,
        )

        participant_read.additional_properties = d
        return participant_read

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
