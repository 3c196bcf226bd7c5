from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
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
        organization_id (None | Unset | UUID): An organization of yours the thread belongs to: then only its members can
            take part, and leaving it (or being removed) removes them from the thread. Omitted: a personal thread.
    """

    title: str
    participant_ids: list[UUID] | Unset = UNSET
    organization_id: None | Unset | UUID = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        participant_ids: list[str] | Unset = UNSET
        if not isinstance(self.participant_ids, Unset):
            participant_ids = []
            for participant_ids_item_data in self.participant_ids:
                participant_ids_item = str(participant_ids_item_data)
                participant_ids.append(participant_ids_item)

        organization_id: None | str | Unset
        if isinstance(self.organization_id, Unset):
            organization_id = UNSET
        elif isinstance(self.organization_id, UUID):
            organization_id = str(self.organization_id)
        else:
            organization_id = self.organization_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
            }
        )
        if participant_ids is not UNSET:
            field_dict["participant_ids"] = participant_ids
        if organization_id is not UNSET:
            field_dict["organization_id"] = organization_id

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

        def _parse_organization_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                organization_id_type_0 = UUID(data)

                return organization_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        organization_id = _parse_organization_id(d.pop("organization_id", UNSET))

        thread_create = cls(
            title=title,
            participant_ids=participant_ids,
            organization_id=organization_id,
        )

        return thread_create
