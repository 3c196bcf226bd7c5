from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Enrolment")


@_attrs_define
class Enrolment:
    """The new authenticator's secret, shown this once: add it to an authenticator app (the URI
    as a QR code, or the secret typed in), then confirm with a first code.

        Attributes:
            secret (str): Base32, for typing into the app.
            provisioning_uri (str): `otpauth://totp/...`, for a QR code.
    """

    secret: str
    provisioning_uri: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        secret = self.secret

        provisioning_uri = self.provisioning_uri

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "secret": secret,
                "provisioning_uri": provisioning_uri,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        secret = d.pop("secret")

        provisioning_uri = d.pop("provisioning_uri")

        enrolment = cls(
            secret=secret,
            provisioning_uri=provisioning_uri,
        )

        enrolment.additional_properties = d
        return enrolment

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
