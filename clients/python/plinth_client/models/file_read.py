from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_status import FileStatus

T = TypeVar("T", bound="FileRead")


@_attrs_define
class FileRead:
    """A file's metadata.

    Attributes:
        id (UUID):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        name (str):
        content_type (str):
        size (int):
        sha256 (str):
        status (FileStatus): `pending` from the upload's start until its confirmation checked the bytes; `ready` after.
    """

    id: UUID
    created_at: datetime.datetime
    updated_at: datetime.datetime
    name: str
    content_type: str
    size: int
    sha256: str
    status: FileStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        name = self.name

        content_type = self.content_type

        size = self.size

        sha256 = self.sha256

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "created_at": created_at,
                "updated_at": updated_at,
                "name": name,
                "content_type": content_type,
                "size": size,
                "sha256": sha256,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        name = d.pop("name")

        content_type = d.pop("content_type")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        status = FileStatus(d.pop("status"))

        file_read = cls(
            id=id,
            created_at=created_at,
            updated_at=updated_at,
            name=name,
            content_type=content_type,
            size=size,
            sha256=sha256,
            status=status,
        )

        file_read.additional_properties = d
        return file_read

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
