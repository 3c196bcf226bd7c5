from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="EmailChangeRequest")


@_attrs_define
class EmailChangeRequest:
    """A new address for one's account (it applies once confirmed from that address).

    Attributes:
        email (str):
        current_password (str):
    """

    email: str
    current_password: str

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        current_password = self.current_password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "current_password": current_password,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email")

        current_password = d.pop("current_password")

        email_change_request = cls(
            email=email,
            current_password=current_password,
        )

        return email_change_request
