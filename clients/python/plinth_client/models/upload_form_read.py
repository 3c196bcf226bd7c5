from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.upload_form_read_fields import UploadFormReadFields


T = TypeVar("T", bound="UploadFormRead")


@_attrs_define
class UploadFormRead:
    """Send the upload: `method` `url` as multipart/form-data, every one of `fields`, then the
    bytes as the last field, `file`.

        Attributes:
            method (str):
            url (str):
            fields (UploadFormReadFields):
    """

    method: str
    url: str
    fields: UploadFormReadFields
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        method = self.method

        url = self.url

        fields = self.fields.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "method": method,
                "url": url,
                "fields": fields,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.upload_form_read_fields import UploadFormReadFields  # noqa: PLC0415

        d = dict(src_dict)
        method = d.pop("method")

        url = d.pop("url")

        fields = UploadFormReadFields.from_dict(d.pop("fields"))

        upload_form_read = cls(
            method=method,
            url=url,
            fields=fields,
        )

        upload_form_read.additional_properties = d
        return upload_form_read

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
