"""The sweep: files no one will use again lose their bytes, then their rows.

Three kinds, each found by the database, never by listing the store:
- uploads never confirmed, given up STORAGE_PENDING_HOURS ago (plus `GRACE`);
- orphans: confirmed files attached to a row that was hard-deleted (its `file_field` column
  went with it, or was set NULL by the foreign key) — `file_references()` names every column
  that can hold a file;
- files deleted already (soft-deleted rows) whose bytes the store could not delete then.

A row is deleted only after its bytes are gone; when the store is down the sweep stops, keeps
every remaining row and raises `StorageUnavailable`, and the next run carries on. Deleting
bytes twice is harmless, so a sweep may run again at any time. The job is
`platform.sweep_files` (core/platform/jobs/maintenance.py, STORAGE_SWEEP_CRON).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Column, Select, delete, exists, func, select
from sqlalchemy.sql.elements import ColumnElement

from core.db import Base, Database, utcnow
from core.files.models import FileStatus, StoredFile
from core.platform.storage import Storage, StorageUnavailable
from core.service import unit_of_work

logger = logging.getLogger("plinth.files.sweep")

BATCH = 100
"""Files per transaction: their rows stay locked while their bytes are deleted."""
GRACE = timedelta(minutes=10)
"""How long after being given up an upload is swept: a confirmation that began just before
(and holds the row) has finished by then."""


def file_references() -> dict[str, Column[Any]]:
    """Every mapped column that holds a `StoredFile` id (each `file_field`, and any column
    with a foreign key to `stored_files.id`), by the `table.column` name a file's
    `attached_to` carries. A file attached to a column not mapped in this process is never
    taken for an orphan."""
    found: dict[str, Column[Any]] = {}
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if any(fk.target_fullname == "stored_files.id" for fk in column.foreign_keys):
                found[f"{table.name}.{column.name}"] = column
    return found


@dataclass
class SweepResult:
    """How many files the sweep removed, by kind, and how many it left for not knowing the
    column they are attached to."""

    given_up: int = 0
    orphaned: int = 0
    deleted: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        """Files removed, bytes and rows."""
        return self.given_up + self.orphaned + self.deleted


def given_up() -> Select[StoredFile]:
    """Uploads never confirmed, given up more than `GRACE` ago."""
    return select(StoredFile).where(
        StoredFile.status == FileStatus.PENDING,
        StoredFile.deleted_at.is_(None),
        StoredFile.expires_at < utcnow() - GRACE,
    )


def orphaned(name: str, column: Column[Any]) -> Select[StoredFile]:
    """Files attached to `column` (named `name`) that no row of its table holds any longer."""
    held = exists().where(column == StoredFile.id)
    return select(StoredFile).where(
        StoredFile.attached_to == name, StoredFile.deleted_at.is_(None), ~held
    )


def deleted() -> Select[StoredFile]:
    """Files deleted already, whose bytes may have outlived them."""
    return select(StoredFile).where(StoredFile.deleted_at.is_not(None))


def holding_columns() -> Select[str | None]:
    """The `attached_to` names live files carry: only those columns are searched for orphans
    (a model mapped here whose table holds no file costs no query)."""
    return (
        select(StoredFile.attached_to)
        .where(StoredFile.attached_to.is_not(None), StoredFile.deleted_at.is_(None))
        .distinct()
    )


def unknown_attachments(known: list[str]) -> Select[int]:
    """How many live files name a column this process does not map."""
    outside: ColumnElement[bool] = StoredFile.attached_to.not_in(known)
    return select(func.count()).where(
        StoredFile.attached_to.is_not(None), StoredFile.deleted_at.is_(None), outside
    )


async def _delete_bytes(
    storage: Storage, files: list[StoredFile]
) -> tuple[list[Any], Exception | None]:
    """The ids of the files whose bytes are gone; stops at the first failure, returned."""
    done: list[Any] = []
    for file in files:
        try:
            await storage.delete(file.key)
        except StorageUnavailable as exc:
            return done, exc
        done.append(file.id)
    return done, None


async def sweep_batch(
    database: Database, storage: Storage, stmt: Select[StoredFile], batch: int = BATCH
) -> tuple[int, bool]:
    """Remove one batch of the files `stmt` selects: bytes, then rows. Returns how many were
    removed and whether more may remain; raises `StorageUnavailable` (after keeping what was
    done) when the store fails."""
    stmt = stmt.order_by(StoredFile.id).limit(batch).with_for_update(skip_locked=True)
    async with unit_of_work(database) as session:
        files = list((await session.scalars(stmt)).all())
        done, failure = await _delete_bytes(storage, files)
        if done:
            await session.execute(delete(StoredFile).where(StoredFile.id.in_(done)))
    if failure is not None:
        raise failure
    return len(done), len(files) == batch


async def sweep(
    database: Database, storage: Storage, stmt: Select[StoredFile], batch: int = BATCH
) -> int:
    """Remove every file `stmt` selects, batch after batch; how many were removed."""
    total, more = 0, True
    while more:
        removed, more = await sweep_batch(database, storage, stmt, batch)
        total += removed
    return total


async def sweep_files(database: Database, storage: Storage, batch: int = BATCH) -> SweepResult:
    """Remove given-up uploads, orphans and the leftovers of deleted files (see the module).
    Raises `StorageUnavailable` when the store fails; what was removed until then stays
    removed, and every other row stays for the next run."""
    result = SweepResult()
    result.given_up = await sweep(database, storage, given_up(), batch)
    references = file_references()
    async with unit_of_work(database, read_only=True) as session:
        holders = {name for name in (await session.scalars(holding_columns())).all() if name}
        result.unknown = int(await session.scalar(unknown_attachments(list(references))) or 0)
    for name in sorted(holders & set(references)):
        column = references[name]
        result.orphaned += await sweep(database, storage, orphaned(name, column), batch)
    result.deleted = await sweep(database, storage, deleted(), batch)
    if result.unknown:
        logger.warning(
            "%d files are attached to columns this process does not map: kept", result.unknown
        )
    return result
