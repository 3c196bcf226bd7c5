from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.token_response import TokenResponse


T = TypeVar("T", bound="MeUpdated")


@_attrs_define
class MeUpdated:
    """The updated account; `tokens` is a fresh pair when the password changed (the old
    tokens, this session's included, no longer work).

        Attributes:
            id (UUID):
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
            email (str):
            full_name (str):
            scopes (list[str]):
            is_active (bool):
            email_verified (bool):
            tokens (None | TokenResponse | Unset):
    """

    id: UUID
    created_at: datetime.datetime
    updated_at: datetime.datetime
    email: str
    full_name: str
    scopes: list[str]
    is_active: bool
    email_verified: bool
    tokens: None | TokenResponse | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.token_response import TokenResponse  # noqa: PLC0415

        id = str(self.id)

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        email = self.email

        full_name = self.full_name

        scopes = self.scopes

        is_active = self.is_active

        email_verified = self.email_verified

        tokens: dict[str, Any] | None | Unset
        if isinstance(self.tokens, Unset):
            tokens = UNSET
        elif isinstance(self.tokens, TokenResponse):
            tokens = self.tokens.to_dict()
        else:
            tokens = self.tokens

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "created_at": created_at,
                "updated_at": updated_at,
                "email": email,
                "full_name": full_name,
                "scopes": scopes,
                "is_active": is_active,
                "email_verified": email_verified,
            }
        )
        if tokens is not UNSET:
            field_dict["tokens"] = tokens

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.token_response import TokenResponse  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        email = d.pop("email")

        full_name = d.pop("full_name")

        scopes = cast(list[str], d.pop("scopes"))

        is_active = d.pop("is_active")

        email_verified = d.pop("email_verified")

        def _parse_tokens(data: object) -> None | TokenResponse | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tokens_type_0 = TokenResponse.from_dict(data)

                return tokens_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TokenResponse | Unset, data)

        tokens = _parse_tokens(d.pop("tokens", UNSET))

        me_updated = cls(
            id=id,
            created_at=created_at,
            updated_at=updated_at,
            email=email,
            full_name=full_name,
            scopes=scopes,
            is_active=is_active,
            email_verified=email_verified,
            tokens=tokens,
        )

        me_updated.additional_properties = d
        return me_updated

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
