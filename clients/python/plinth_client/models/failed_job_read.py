from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.failed_job_read_arguments import FailedJobReadArguments


T = TypeVar("T", bound="FailedJobRead")


@_attrs_define
class FailedJobRead:
    """One job given up on, as admins see it.

    Attributes:
        id (UUID):
        created_at (datetime.datetime):
        job (str):
        task_id (str):
        arguments (FailedJobReadArguments):
        error (str):
        attempts (int):
        worker (str):
    """

    id: UUID
    created_at: datetime.datetime
    job: str
    task_id: str
    arguments: FailedJobReadArguments
    error: str
    attempts: int
    worker: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        created_at = self.created_at.isoformat()

        job = self.job

        task_id = self.task_id

        arguments = self.arguments.to_dict()

        error = self.error

        attempts = self.attempts

        worker = self.worker

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "created_at": created_at,
                "job": job,
                "task_id": task_id,
                "arguments": arguments,
                "error": error,
                "attempts": attempts,
                "worker": worker,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.failed_job_read_arguments import FailedJobReadArguments  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        job = d.pop("job")

        task_id = d.pop("task_id")

        arguments = FailedJobReadArguments.from_dict(d.pop("arguments"))

        error = d.pop("error")

        attempts = d.pop("attempts")

        worker = d.pop("worker")

        failed_job_read = cls(
            id=id,
            created_at=created_at,
            job=job,
            task_id=task_id,
            arguments=arguments,
            error=error,
            attempts=attempts,
            worker=worker,
        )

        failed_job_read.additional_properties = d
        return failed_job_read

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
