"""The bodies of the file routes."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from core.fields import Text
from core.files.models import FileStatus
from core.schemas import CreateSchema, ReadSchema

SHA256_HEX = r"^[0-9a-f]{64}$"


class UploadCreate(CreateSchema):
    """What the client is about to upload. The stored bytes are checked against it."""

    name: Annotated[Text, Field(min_length=1, max_length=1000)]
    """The file's own name; kept sanitised, sent back only in `Content-Disposition`."""
    content_type: Annotated[str, Field(min_length=3, max_length=100)]
    size: Annotated[int, Field(ge=0)]
    """In bytes."""
    sha256: Annotated[str, Field(pattern=SHA256_HEX)]
    """Hex SHA-256 of the bytes, lower case."""


class FileRead(ReadSchema):
    """A file's metadata."""

    name: str
    content_type: str
    size: int
    sha256: str
    status: FileStatus


class UploadFormRead(BaseModel):
    """Send the upload: `method` `url` as multipart/form-data, every one of `fields`, then the
    bytes as the last field, `file`."""

    method: str
    url: str
    fields: dict[str, str]


class UploadStarted(BaseModel):
    """A started upload: upload with `upload` before `expires_at`, then confirm the file."""

    file: FileRead
    upload: UploadFormRead
    expires_at: datetime


class FileAttach(BaseModel):
    """The file to attach: one of the caller's own, confirmed and attached nowhere else."""

    file_id: uuid.UUID


class FileDownload(BaseModel):
    """Download with a plain GET of `url` until `expires_at` (sent as an attachment)."""

    file: FileRead
    url: str
    expires_at: datetime
