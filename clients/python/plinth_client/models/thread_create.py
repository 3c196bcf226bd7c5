from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ThreadCreate")


@_attrs_define
class ThreadCreate:
    """
    Attributes:
        title (str):
        participant_ids (list[UUID] | Unset): Other users to include; the creator is always a participant.
    """

    title: str
    participant_ids: list[UUID] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        participant_ids: list[str] | Unset = UNSET
        if not isinstance(self.participant_ids, Unset):
            participant_ids = []
            for participant_ids_item_data in self.participant_ids:
                participant_ids_item = str(participant_ids_item_data)
                participant_ids.append(participant_ids_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
            }
        )
        if participant_ids is not UNSET:
            field_dict["participant_ids"] = participant_ids

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        title = d.pop("title")

        _participant_ids = d.pop("participant_ids", UNSET)
        participant_ids: list[UUID] | Unset = UNSET
        if _participant_ids is not UNSET:
            participant_ids = []
            for participant_ids_item_data in _participant_ids:
                participant_ids_item = UUID(participant_ids_item_data)

                participant_ids.append(participant_ids_item)

        thread_create = cls(
            title=title,
            participant_ids=participant_ids,
        )

        return thread_create
