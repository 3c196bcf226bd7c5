from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="UploadCreate")


@_attrs_define
class UploadCreate:
    """What the client is about to upload. The stored bytes are checked against it.

    Attributes:
        name (str):
        content_type (str):
        size (int):
        sha256 (str):
    """

    name: str
    content_type: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        content_type = self.content_type

        size = self.size

        sha256 = self.sha256

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "content_type": content_type,
                "size": size,
                "sha256": sha256,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        content_type = d.pop("content_type")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        upload_create = cls(
            name=name,
            content_type=content_type,
            size=size,
            sha256=sha256,
        )

        return upload_create
