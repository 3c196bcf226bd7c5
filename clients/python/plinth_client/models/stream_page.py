from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.stream_page_items_item import StreamPageItemsItem


T = TypeVar("T", bound="StreamPage")


@_attrs_define
class StreamPage:
    """Kept events of one stream after a seq, oldest first.

    Attributes:
        items (list[StreamPageItemsItem]): Events exactly as the socket sent them.
        has_more (bool): More events follow: ask again after the last seq.
        seq (int): The stream's latest seq now.
    """

    items: list[StreamPageItemsItem]
    has_more: bool
    seq: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        has_more = self.has_more

        seq = self.seq

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
                "has_more": has_more,
                "seq": seq,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.stream_page_items_item import StreamPageItemsItem  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = StreamPageItemsItem.from_dict(items_item_data)

            items.append(items_item)

        has_more = d.pop("has_more")

        seq = d.pop("seq")

        stream_page = cls(
            items=items,
            has_more=has_more,
            seq=seq,
        )

        stream_page.additional_properties = d
        return stream_page

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
