"""`Storage`: where file bytes live, behind one small interface with two backends.

Clients never send bytes through the app's API routes: they get an `UploadForm` (a presigned
POST to S3, or the same form posted to the app's own blob route on the local disk), upload,
and the app then checks the stored object (`head`, `read_head`) before it is used.
"""

import abc
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import ServiceUnavailable


class StorageUnavailable(ServiceUnavailable):
    """The object store cannot be reached or failed: 503 with Retry-After, nothing changed."""

    title = "Storage unavailable"
    type_slug = "storage-unavailable"


@dataclass(frozen=True)
class ObjectInfo:
    """What the store says about a stored object."""

    size: int
    sha256: str | None = None
    """Hex SHA-256 of the bytes, when the store keeps one (S3 verified it at upload)."""


@dataclass(frozen=True)
class UploadForm:
    """A direct upload: POST `url` as multipart/form-data with `fields`, the file last (as
    the form field `file`). The form fixes the key, the content type and the maximum size."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)
    method: str = "POST"


@dataclass(frozen=True)
class UploadTerms:
    """What an upload may be: the key it lands at, its type, its size limit and checksum (hex
    SHA-256, which an S3 form makes the store verify and keep)."""

    key: str
    content_type: str
    max_size: int
    sha256: str
    expires_at: datetime


@dataclass(frozen=True)
class DownloadTerms:
    """A download: the key, the name and type it is sent with, and when the URL expires."""

    key: str
    filename: str
    content_type: str
    expires_at: datetime


class Storage(abc.ABC):
    """An object store. Every call that reaches the store raises `StorageUnavailable` when it
    cannot (never a bare network error); a missing object is `None`, not an error."""

    name: str
    """`local` or `s3`."""

    @abc.abstractmethod
    async def upload_form(self, terms: UploadTerms, base_url: str) -> UploadForm:
        """A signed form that uploads one object under `terms`. `base_url` is the app's own
        address as the client reached it (the local backend's form posts there)."""

    @abc.abstractmethod
    async def download_url(self, terms: DownloadTerms, base_url: str) -> str:
        """A signed URL that sends the object as an attachment until `terms.expires_at`."""

    @abc.abstractmethod
    async def head(self, key: str) -> ObjectInfo | None:
        """The stored object's size (and checksum when known), or None when it is missing."""

    @abc.abstractmethod
    async def read_head(self, key: str, size: int) -> bytes:
        """The first `size` bytes of the object (fewer when it is shorter)."""

    async def sha256(self, key: str) -> str | None:
        """The hex SHA-256 of the object when the backend can tell it without sending the
        object's bytes through the app (`head` reports it when the store keeps one); None by
        default. Override where the bytes are at hand (the local disk)."""
        return None

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is fine."""

    async def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release connections (at shut-down)."""
