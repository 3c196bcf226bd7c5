from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="JobsStatus")


@_attrs_define
class JobsStatus:
    """The queue at a glance.

    Attributes:
        queue_depth (int):
        workers_alive (int):
        in_process (bool):
    """

    queue_depth: int
    workers_alive: int
    in_process: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        queue_depth = self.queue_depth

        workers_alive = self.workers_alive

        in_process = self.in_process

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "queue_depth": queue_depth,
                "workers_alive": workers_alive,
                "in_process": in_process,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        queue_depth = d.pop("queue_depth")

        workers_alive = d.pop("workers_alive")

        in_process = d.pop("in_process")

        jobs_status = cls(
            queue_depth=queue_depth,
            workers_alive=workers_alive,
            in_process=in_process,
        )

        jobs_status.additional_properties = d
        return jobs_status

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
