"""`StoredFile`, the metadata row of one uploaded file, and `file_field()`, the one line that
gives any entity a file."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column

from core.columns import enum_column
from core.db import CommonBase

FILE_FIELD = "plinth_file_field"
"""The `info` key marking a column made by `file_field()`."""


class FileStatus(StrEnum):
    """`pending` from the upload's start until its confirmation checked the bytes; `ready` after."""

    PENDING = "pending"
    READY = "ready"


class StoredFile(CommonBase):
    """One file: its metadata here, its bytes in the store under `key`.

    `size`, `content_type` and `sha256` are the client's declaration until confirmation, then
    checked against the stored object. `attached_to` names the column holding it
    (`todos.attachment_id`): a file belongs to one row at most.
    """

    __tablename__ = "stored_files"
    __table_args__ = (
        # The sweep's searches (core/files/housekeeping.py): uploads given up, files by holder.
        Index("ix_stored_files_status_expires_at", "status", "expires_at"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[FileStatus] = enum_column(
        FileStatus, name="file_status", default=FileStatus.PENDING
    )
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    """When a pending upload is given up (and swept)."""
    attached_to: Mapped[str | None] = mapped_column(String(200), default=None, index=True)


def file_field(**column: Any) -> MappedColumn[Any]:
    """A file of an entity, in one line:

        class Todo(CommonBase):
            attachment_id: Mapped[uuid.UUID | None] = file_field()

    The column holds a `StoredFile` id; the CRUD router of the entity's controller then gets
    `PUT/GET/DELETE /todos/{todo_id}/files/attachment` (the name without `_id`). `column`
    goes to `mapped_column`."""
    column.setdefault("default", None)
    column.setdefault("index", True)
    info = {**column.pop("info", {}), FILE_FIELD: True}
    target = ForeignKey("stored_files.id", ondelete="SET NULL")
    return mapped_column(target, info=info, **column)


def file_fields(model: type[Any]) -> dict[str, str]:
    """The file fields of `model`: the name in routes (`attachment`) → the column
    (`attachment_id`)."""
    found = {}
    for column in model.__table__.columns:
        if column.info.get(FILE_FIELD):
            found[column.key.removesuffix("_id")] = column.key
    return found
