"""`FileController`: the caller's own files — start an upload, confirm it, attach, download.

    started = await files.start_upload(data, storage, base_url)   # the caller uploads
    file = await files.confirm(started.file.id, storage)          # bytes checked here
    await files.attach(todo, "attachment_id", file.id)            # the row's file

Confirmation reads the stored object, never the client's word: its size, its first bytes
(the content-type allowlist is checked against them) and its SHA-256 must all be what the
upload declared. It reads at most SNIFF_BYTES of it: the checksum is the store's, verified at
upload (`S3Storage` forms carry it). A file that fails is deleted, bytes and row, and the
answer says why.
"""

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select

from configs import get_settings
from configs.storage import StorageSettings
from core.controller import Action, BaseController, Owner
from core.db import utcnow
from core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    field_error,
)
from core.files.models import FileStatus, StoredFile
from core.files.schemas import FileDownload, FileRead, UploadCreate, UploadFormRead, UploadStarted
from core.platform.storage import (
    SNIFF_BYTES,
    DownloadTerms,
    ObjectInfo,
    Storage,
    UploadTerms,
    looks_like,
    safe_filename,
)
from core.service import UnitOfWork


class QuotaExceeded(PayloadTooLarge):
    """The upload would take the caller past their storage quota."""

    title = "Storage quota exceeded"
    type_slug = "quota-exceeded"


class FileController(BaseController[StoredFile, UploadCreate, UploadCreate]):
    """Files as their owner sees them: others' files answer 404. Rows that hold a file reach
    it through their own controller's visibility (`read_attached`)."""

    owner = Owner("owner_id")

    @property
    def limits(self) -> StorageSettings:
        """STORAGE_* (sizes, quota, allowed types, URL lifetimes)."""
        return get_settings().storage

    # -- uploads ------------------------------------------------------------------------------

    async def start_upload(
        self, data: UploadCreate, storage: Storage, base_url: str
    ) -> UploadStarted:
        """Record a pending file and sign its direct upload (415 for a type not allowed, 413
        over the size limit or the caller's quota)."""
        self._check_declared(data)
        await self._check_quota(data.size)
        expires_at = utcnow() + timedelta(seconds=self.limits.upload_expires_seconds)
        file = await self.repository.add(
            StoredFile(
                owner_id=self.me.id,
                key=f"u/{self.me.id}/{secrets.token_urlsafe(24)}",
                name=safe_filename(data.name),
                content_type=data.content_type,
                size=data.size,
                sha256=data.sha256,
                expires_at=utcnow() + timedelta(hours=self.limits.pending_hours),
            )
        )
        terms = UploadTerms(file.key, data.content_type, data.size, data.sha256, expires_at)
        form = await storage.upload_form(terms, base_url)
        upload = UploadFormRead(method=form.method, url=form.url, fields=form.fields)
        return UploadStarted(
            file=FileRead.model_validate(file), upload=upload, expires_at=expires_at
        )

    def _check_declared(self, data: UploadCreate) -> None:
        if data.content_type not in self.limits.allowed_types:
            allowed = ", ".join(self.limits.allowed_types)
            raise UnsupportedMediaType(f"{data.content_type} is not accepted; allowed: {allowed}.")
        if data.size > self.limits.max_file_bytes:
            raise PayloadTooLarge(f"A file may have at most {self.limits.max_file_bytes} bytes.")

    async def _check_quota(self, size: int) -> None:
        await self._hold_quota()
        used = await self.used_bytes()
        if used + size > self.limits.user_quota_bytes:
            raise QuotaExceeded(
                f"This upload would use {used + size} of your {self.limits.user_quota_bytes} "
                "bytes of storage; delete files first."
            )

    async def _hold_quota(self) -> None:
        """Serialise the caller's upload starts until this transaction ends, so uploads
        started at once cannot each fit in what is left (SQLite serialises writers anyway)."""
        if self.session.get_bind().dialect.name == "postgresql":
            key = func.hashtextextended(f"plinth.quota:{self.me.id}", 0)
            await self.session.execute(select(func.pg_advisory_xact_lock(key)))

    async def used_bytes(self) -> int:
        """The caller's stored bytes: every live file, pending ones at their declared size
        until STORAGE_PENDING_HOURS gives them up."""
        stmt = select(func.coalesce(func.sum(StoredFile.size), 0)).where(
            StoredFile.owner_id == self.me.id,
            StoredFile.deleted_at.is_(None),
            or_(StoredFile.status == FileStatus.READY, StoredFile.expires_at > utcnow()),
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def confirm(self, file_id: uuid.UUID, storage: Storage) -> StoredFile:
        """Check the stored object against the upload's declaration and mark the file ready.
        404 for another's file, 409 when confirmed already, given up (STORAGE_PENDING_HOURS)
        or not uploaded yet; a mismatch deletes the file and answers 413, 415 or 422."""
        file = await self.get(file_id, action=Action.UPDATE, for_update=True)
        if file.status is FileStatus.READY:
            raise Conflict("This file is confirmed already.")
        if file.expires_at is not None and file.expires_at <= utcnow():
            raise Conflict("This upload was given up: start a new one.")
        info = await storage.head(file.key)
        if info is None:
            raise Conflict("Nothing has been uploaded for this file yet.")
        problem = await self._mismatch(file, info, storage)
        if problem is not None:
            await self._discard(file, storage)
            raise problem
        return await self.repository.update(file, {"status": FileStatus.READY, "expires_at": None})

    async def _mismatch(
        self, file: StoredFile, info: ObjectInfo, storage: Storage
    ) -> Exception | None:
        """What is wrong with the stored object, if anything."""
        if info.size > self.limits.max_file_bytes:
            return PayloadTooLarge(f"A file may have at most {self.limits.max_file_bytes} bytes.")
        if info.size != file.size:
            msg = f"{info.size} bytes were stored where {file.size} were declared."
            return InvalidInput(msg, errors=[field_error(["body", "size"], msg)])
        complete = info.size <= SNIFF_BYTES
        head = await storage.read_head(file.key, min(SNIFF_BYTES, info.size))
        if not looks_like(file.content_type, head, complete=complete):
            return UnsupportedMediaType(f"The stored bytes are not {file.content_type}.")
        sha256 = await self._stored_sha256(file, info, head if complete else None, storage)
        if sha256 is not None and sha256 != file.sha256:
            msg = "The stored bytes do not have the declared SHA-256."
            return InvalidInput(msg, errors=[field_error(["body", "sha256"], msg)])
        return None

    async def _stored_sha256(
        self, file: StoredFile, info: ObjectInfo, whole: bytes | None, storage: Storage
    ) -> str | None:
        """The stored object's SHA-256 without reading it through the app: the store's (S3
        verified it against the form's checksum at upload), that of the bytes already read
        when they were all of it, or the backend's (the local disk). None on a store that
        keeps no checksum (moto): the declared one stands, bounded work over a full read."""
        if info.sha256 is not None:
            return info.sha256
        if whole is not None:
            return hashlib.sha256(whole).hexdigest()
        return await storage.sha256(file.key)

    async def _discard(self, file: StoredFile, storage: Storage) -> None:
        """Delete a file that failed its checks, bytes then row, and commit that before the
        error is answered (which would roll it back)."""
        await storage.delete(file.key)
        await self.repository.hard_delete(file)
        await UnitOfWork.of(self.session).commit()

    # -- attaching ----------------------------------------------------------------------------

    async def attach(
        self, row: Any, column: str, file_id: uuid.UUID, storage: Storage
    ) -> StoredFile:
        """Put the caller's confirmed, unattached file `file_id` in `row.column` (the row's
        write permission is the caller's to check first). The file it replaces is released."""
        file = await self._attachable(file_id)
        await self.release(row, column, storage)
        file.attached_to = f"{row.__tablename__}.{column}"
        setattr(row, column, file.id)
        await self.session.flush()
        return file

    async def _attachable(self, file_id: uuid.UUID) -> StoredFile:
        file = await self.get(file_id, action=Action.UPDATE, for_update=True)
        if file.status is not FileStatus.READY:
            raise Conflict("Confirm the upload before attaching the file.")
        if file.attached_to is not None:
            raise Conflict("This file is attached elsewhere already.")
        return file

    async def release(self, row: Any, column: str, storage: Storage) -> None:
        """Empty `row.column` and delete the file it held, its bytes once that commits."""
        current = getattr(row, column)
        if current is None:
            return
        setattr(row, column, None)
        file = await self.repository.one_or_none(self.repository.by_id(current))
        if file is not None:
            await self.discard(file, storage)

    async def discard(self, file: StoredFile, storage: Storage) -> None:
        """Soft-delete `file` now and delete its bytes once that commits. Bytes the store
        could not delete then are deleted by the sweeper (`sweep_files`)."""
        await self.repository.soft_delete(file)
        key = file.key

        async def delete_bytes() -> None:
            await storage.delete(key)

        self.after_commit(delete_bytes)

    async def delete_own(self, file_id: uuid.UUID, storage: Storage) -> None:
        """Delete one of the caller's files that no row holds (409 while one does)."""
        file = await self.get(file_id, action=Action.DELETE, for_update=True)
        if file.attached_to is not None:
            raise Conflict("A row holds this file: remove it from the row instead.")
        await self.discard(file, storage)

    # -- reading ------------------------------------------------------------------------------

    async def read_attached(self, row: Any, column: str) -> StoredFile:
        """The file in `row.column` of a row the caller may read (404 when it holds none)."""
        file_id = getattr(row, column)
        stmt = self.repository.by_id(file_id) if file_id is not None else None
        file = await self.repository.one_or_none(stmt) if stmt is not None else None
        if file is None:
            raise NotFound("This row has no such file.")
        return file

    async def download(self, file: StoredFile, storage: Storage, base_url: str) -> FileDownload:
        """A short-lived URL that sends `file` as an attachment. Whoever calls this has checked
        that the caller may see the file's row."""
        expires_at = utcnow() + timedelta(seconds=self.limits.download_expires_seconds)
        terms = DownloadTerms(file.key, file.name, file.content_type, expires_at)
        url = await storage.download_url(terms, base_url)
        return FileDownload(file=FileRead.model_validate(file), url=url, expires_at=expires_at)
