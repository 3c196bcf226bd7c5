from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TicketRead")


@_attrs_define
class TicketRead:
    """
    Attributes:
        ticket (str): Single use; offer it as the subprotocol `ticket.<ticket>`.
        expires_in (int): Seconds left to open the socket with it.
        url (str): Where to open the WebSocket.
        subprotocol (str): Offer it beside the ticket; the server answers it.
    """

    ticket: str
    expires_in: int
    url: str
    subprotocol: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ticket = self.ticket

        expires_in = self.expires_in

        url = self.url

        subprotocol = self.subprotocol

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ticket": ticket,
                "expires_in": expires_in,
                "url": url,
                "subprotocol": subprotocol,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        ticket = d.pop("ticket")

        expires_in = d.pop("expires_in")

        url = d.pop("url")

        subprotocol = d.pop("subprotocol")

        ticket_read = cls(
            ticket=ticket,
            expires_in=expires_in,
            url=url,
            subprotocol=subprotocol,
        )

        ticket_read.additional_properties = d
        return ticket_read

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
