"""`LocalStorage`: files on the local disk, the embedded default.

The app itself plays the store: the upload form posts to its blob route (`BLOB_PATH`) and
downloads are served from it, both authorised by a signed, expiring token in place of S3's
presigned requests. Clients follow one protocol whichever backend runs.

The local store is down when its directory is gone (a volume not mounted) or the file system
fails (EIO, ENOSPC, EACCES): every call then raises `StorageUnavailable` (503), as S3's would.
A missing object under a present directory is only missing.
"""

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from core.errors import Conflict, NotFound, PayloadTooLarge
from core.platform.storage.backend import (
    DownloadTerms,
    ObjectInfo,
    Storage,
    StorageUnavailable,
    UploadForm,
    UploadTerms,
)
from core.platform.storage.signing import UrlSigner

CHUNK = 256 * 1024
T = TypeVar("T")
logger = logging.getLogger("plinth.storage")
DOWN = "The file store cannot be reached; try again shortly."


@dataclass(frozen=True)
class Blob:
    """An object to send: its path on disk, and the name and type to send it with."""

    path: Path
    filename: str
    content_type: str


class LocalStorage(Storage):
    """Objects as files under `root`; uploads and downloads through `blob_path` on the app."""

    name = "local"

    def __init__(self, root: Path, secret: str, blob_path: str) -> None:
        self.root = root.resolve()
        self.blob_path = blob_path
        self._signer = UrlSigner(secret)
        self.root.mkdir(parents=True, exist_ok=True)

    def _check_root(self) -> None:
        if not self.root.is_dir():
            logger.warning("local store unavailable: %s is not a directory", self.root)
            raise StorageUnavailable(DOWN)

    async def _disk(self, call: Callable[..., T], *args: Any) -> T:
        """Run a file-system call off the event loop; a store that is down raises
        `StorageUnavailable` (a missing object's FileNotFoundError passes through)."""
        self._check_root()
        try:
            return await asyncio.to_thread(call, *args)
        except (FileNotFoundError, FileExistsError):
            raise
        except OSError as exc:
            logger.warning("local store unavailable: %s", exc)
            raise StorageUnavailable(DOWN) from exc

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise NotFound("No such object.")
        return path

    async def upload_form(self, terms: UploadTerms, base_url: str) -> UploadForm:
        claims = {"op": "put", "key": terms.key, "max": terms.max_size}
        token = self._signer.sign(claims, terms.expires_at.timestamp())
        return UploadForm(url=base_url.rstrip("/") + self.blob_path, fields={"token": token})

    async def download_url(self, terms: DownloadTerms, base_url: str) -> str:
        claims = {"op": "get", "key": terms.key, "name": terms.filename}
        token = self._signer.sign(
            claims | {"type": terms.content_type}, terms.expires_at.timestamp()
        )
        return f"{base_url.rstrip('/')}{self.blob_path}/{token}"

    async def receive(self, token: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the body of an upload authorised by `token` (403 if invalid or expired);
        413 past its size limit, 409 when its key already holds an object. Returns the size."""
        claims = self._signer.verify(token, "put")
        final = self._path(claims["key"])
        if await self._disk(final.exists):
            raise Conflict("This upload has already been received.")
        await self._disk(final.parent.mkdir, 0o777, True, True)
        partial = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")
        try:
            size = await self._write(partial, chunks, int(claims["max"]))
            await self._disk(_link_new, partial, final)
        finally:
            await asyncio.to_thread(partial.unlink, missing_ok=True)
        return size

    async def _write(self, path: Path, chunks: AsyncIterator[bytes], limit: int) -> int:
        size = 0
        with await self._disk(path.open, "xb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The file is larger than {limit} bytes.")
                await self._disk(out.write, chunk)
        return size

    def blob(self, token: str) -> Blob:
        """What a download token sends (403 if invalid or expired, 404 once deleted)."""
        claims = self._signer.verify(token, "get")
        self._check_root()
        path = self._path(claims["key"])
        if not path.is_file():
            raise NotFound("No such object.")
        return Blob(path, claims["name"], claims["type"])

    async def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            stat = await self._disk(path.stat)
        except FileNotFoundError:
            return None
        return ObjectInfo(size=stat.st_size)

    async def read_head(self, key: str, size: int) -> bytes:
        def read() -> bytes:
            with self._path(key).open("rb") as file:
                return file.read(size)

        return await self._disk(read)

    async def sha256(self, key: str) -> str | None:
        """Read in full: on the local disk the bytes came through the app anyway."""

        def digest() -> str:
            hasher = hashlib.sha256()
            with self._path(key).open("rb") as file:
                while block := file.read(CHUNK):
                    hasher.update(block)
            return hasher.hexdigest()

        return await self._disk(digest)

    async def delete(self, key: str) -> None:
        await self._disk(self._path(key).unlink, True)


def _link_new(source: Path, target: Path) -> None:
    """Give `source` the name `target` unless `target` exists (then 409): of two uploads to
    one key, only the first lands."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise Conflict("This upload has already been received.") from None
