from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ReadState")


@_attrs_define
class ReadState:
    """
    Attributes:
        thread_id (UUID):
        last_read_seq (int):
        unread_count (int):
    """

    thread_id: UUID
    last_read_seq: int
    unread_count: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        thread_id = str(self.thread_id)

        last_read_seq = self.last_read_seq

        unread_count = self.unread_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "thread_id": thread_id,
                "last_read_seq": last_read_seq,
                "unread_count": unread_count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        thread_id = UUID(d.pop("thread_id"))

        last_read_seq = d.pop("last_read_seq")

        unread_count = d.pop("unread_count")

        read_state = cls(
            thread_id=thread_id,
            last_read_seq=last_read_seq,
            unread_count=unread_count,
        )

        read_state.additional_properties = d
        return read_state

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
