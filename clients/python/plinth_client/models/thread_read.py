from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.participant_read import ParticipantRead


T = TypeVar("T", bound="ThreadRead")


@_attrs_define
class ThreadRead:
    """
    Attributes:
        id (UUID):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        title (str):
        created_by (UUID):
        last_message_at (datetime.datetime | None):
        last_activity_at (datetime.datetime): Creation time, then the newest message's.
        event_seq (int): The id (`seq`) of the thread's latest event.
        participants (list[ParticipantRead]):
        organization_id (None | Unset | UUID):
        unread_count (int | Unset): Messages after your read marker, counted up to 100 (100 means 100 or more). Default:
            0.
    """

    id: UUID
    created_at: datetime.datetime
    updated_at: datetime.datetime
    title: str
    created_by: UUID
    last_message_at: datetime.datetime | None
    last_activity_at: datetime.datetime
    event_seq: int
    participants: list[ParticipantRead]
    organization_id: None | Unset | UUID = UNSET
    unread_count: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        title = self.title

        created_by = str(self.created_by)

        last_message_at: None | str
        if isinstance(self.last_message_at, datetime.datetime):
            last_message_at = self.last_message_at.isoformat()
        else:
            last_message_at = self.last_message_at

        last_activity_at = self.last_activity_at.isoformat()

        event_seq = self.event_seq

        participants = []
        for participants_item_data in self.participants:
            participants_item = participants_item_data.to_dict()
            participants.append(participants_item)

        organization_id: None | str | Unset
        if isinstance(self.organization_id, Unset):
            organization_id = UNSET
        elif isinstance(self.organization_id, UUID):
            organization_id = str(self.organization_id)
        else:
            organization_id = self.organization_id

        unread_count = self.unread_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "created_at": created_at,
                "updated_at": updated_at,
                "title": title,
                "created_by": created_by,
                "last_message_at": last_message_at,
                "last_activity_at": last_activity_at,
                "event_seq": event_seq,
                "participants": participants,
            }
        )
        if organization_id is not UNSET:
            field_dict["organization_id"] = organization_id
        if unread_count is not UNSET:
            field_dict["unread_count"] = unread_count

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.participant_read import ParticipantRead  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        title = d.pop("title")

        created_by = UUID(d.pop("created_by"))

        def _parse_last_message_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_message_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_message_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_message_at = _parse_last_message_at(d.pop("last_message_at"))

        last_activity_at = datetime.datetime.fromisoformat(d.pop("last_activity_at"))

        event_seq = d.pop("event_seq")

        participants = []
        _participants = d.pop("participants")
        for participants_item_data in _participants:
            participants_item = ParticipantRead.from_dict(participants_item_data)

            participants.append(participants_item)

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

        unread_count = d.pop("unread_count", UNSET)

        thread_read = cls(
            id=id,
            created_at=created_at,
            updated_at=updated_at,
            title=title,
            created_by=created_by,
            last_message_at=last_message_at,
            last_activity_at=last_activity_at,
            event_seq=event_seq,
            participants=participants,
            organization_id=organization_id,
            unread_count=unread_count,
        )

        thread_read.additional_properties = d
        return thread_read

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
