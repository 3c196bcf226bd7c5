from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CodeConfirm")


@_attrs_define
class CodeConfirm:
    """A fresh code (it is used up).

    Attributes:
        code (str): A 6-digit code from the authenticator app, or an unused recovery code.
    """

    code: str

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "code": code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code = d.pop("code")

        code_confirm = cls(
            code=code,
        )

        return code_confirm
