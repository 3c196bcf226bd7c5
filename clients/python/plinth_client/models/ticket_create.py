from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ticket_create_resume import TicketCreateResume


T = TypeVar("T", bound="TicketCreate")


@_attrs_define
class TicketCreate:
    """
    Attributes:
        resume (TicketCreateResume | Unset): `{stream: last seq seen}` (a stream is `<kind>:<id>`, as in the events'
            `stream`; a bare `<id>` means a stream of the kind declared to take one, e.g. a thread): the socket first
            replays what came after.
    """

    resume: TicketCreateResume | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        resume: dict[str, Any] | Unset = UNSET
        if not isinstance(self.resume, Unset):
            resume = self.resume.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if resume is not UNSET:
            field_dict["resume"] = resume

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ticket_create_resume import TicketCreateResume  # noqa: PLC0415

        d = dict(src_dict)
        _resume = d.pop("resume", UNSET)
        resume: TicketCreateResume | Unset
        if isinstance(_resume, Unset):
            resume = UNSET
        else:
            resume = TicketCreateResume.from_dict(_resume)

        ticket_create = cls(
            resume=resume,
        )

        return ticket_create
