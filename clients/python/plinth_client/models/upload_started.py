from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.file_read import FileRead
    from ..models.upload_form_read import UploadFormRead


T = TypeVar("T", bound="UploadStarted")


@_attrs_define
class UploadStarted:
    """A started upload: upload with `upload` before `expires_at`, then confirm the file.

    Attributes:
        file (FileRead): A file's metadata.
        upload (UploadFormRead): Send the upload: `method` `url` as multipart/form-data, every one of `fields`, then the
            bytes as the last field, `file`.
        expires_at (datetime.datetime):
    """

    file: FileRead
    upload: UploadFormRead
    expires_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_dict()

        upload = self.upload.to_dict()

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file": file,
                "upload": upload,
                "expires_at": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.file_read import FileRead  # noqa: PLC0415
        from ..models.upload_form_read import UploadFormRead  # noqa: PLC0415

        d = dict(src_dict)
        file = FileRead.from_dict(d.pop("file"))

        upload = UploadFormRead.from_dict(d.pop("upload"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        upload_started = cls(
            file=file,
            upload=upload,
            expires_at=expires_at,
        )

        upload_started.additional_properties = d
        return upload_started

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
