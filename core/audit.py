"""The audit log: who changed what and when, written in the same transaction as the change.

    class DocumentController(BaseController[Document, DocumentCreate, DocumentUpdate]):
        audit = Audit()                          # create, update, delete and restore
        audit = Audit(redact={"license_text"})   # and values that never reach the log

    audit.record(self, "transfer", entity="membership", entity_id=member.id)

Each entry names the actor — `user:<id>`, `api_key:<id>` (with the user behind the key),
`system:<job>` for work a scheduled job does (`acting_as`), `anonymous` for a sign-up — the
organization, the entity and its id, the action, the changed fields (before and after for
updates; secret-looking fields and the declared ones redacted), the request id and the time.
Entries are added to the caller's session and commit or roll back with the change they
describe: a rolled-back change leaves no entry. Nothing edits or deletes them but the
retention job (`platform.purge_audit`).
"""

import enum
import re
import uuid
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Index, String, delete, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.context import current_request_id
from core.db import Entity, insert_time
from core.fields import Timestamp
from core.filtering import Filter, FilterSet
from core.pagination import CursorParams, cursor_binding
from core.repository import BaseRepository, CursorResult
from core.security import Principal
from core.service import SessionBound

REDACTED = "[redacted]"
SECRET_FIELD = re.compile(r"password|passwd|secret|token|hash|salt|otp|credential|private|^key$")
"""Field names whose values are never written to the log, whatever the entity."""

_system_actor: ContextVar[str | None] = ContextVar("audit_system_actor", default=None)


class AuditEntry(Entity):
    """One audited change. Append-only: the API has no route that edits or deletes one."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_organization_id_created_at", "organization_id", "created_at"),
        Index("ix_audit_entries_entity_type_entity_id", "entity_type", "entity_id"),
        Index("ix_audit_entries_user_id_created_at", "user_id", "created_at"),
    )

    created_at: Mapped[datetime] = mapped_column(default=insert_time, index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    """`user:<id>`, `api_key:<id>` or `system:<job name>`."""
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    """The person acting (directly or through an API key); None for system work."""
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    entity_type: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    action: Mapped[str] = mapped_column(String(100))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)


@dataclass(frozen=True)
class Audit:
    """Audits a controller's create, update, delete and restore (`BaseController.audit`).

    `entity` names the entity in the log (default: the table name); `organization` is the
    column holding the row's organization (default: the tenant's field, if the controller is
    tenant-scoped); `redact` names fields whose values are secret beyond `SECRET_FIELD`.
    """

    entity: str | None = None
    organization: str | None = None
    redact: Collection[str] = ()

    def is_secret(self, field: str) -> bool:
        """Whether `field`'s values are replaced by `REDACTED` in the log."""
        return field in self.redact or SECRET_FIELD.search(field.lower()) is not None

    def snapshot(self, obj: Any) -> dict[str, Any]:
        """The row's column values, as the log stores them (secrets redacted)."""
        values = {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}
        return self.redacted(values)

    def redacted(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """`values` as JSON, with secret fields' values replaced."""
        return {
            name: REDACTED if self.is_secret(name) else jsonable(value)
            for name, value in values.items()
        }

    def changes(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
        """`{field: {"before": …, "after": …}}` for each field whose value changed."""
        return {
            name: {"before": before.get(name), "after": value}
            for name, value in after.items()
            if before.get(name) != value and name not in ("updated_at",)
        }


def jsonable(value: Any) -> Any:
    """`value` as JSON can hold it: ids and times as text, enums as their values."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return str(value)


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Within the block, changes made without a caller are recorded as `system:<name>` (the
    job runner wraps every job in it with the job's name)."""
    token = _system_actor.set(f"system:{name}")
    try:
        yield
    finally:
        _system_actor.reset(token)


def actor_of(
    principal: Principal | None, user_id: uuid.UUID | None = None
) -> tuple[str, uuid.UUID | None]:
    """The actor string and the person behind it, for `principal`. Without one: `user_id`
    when a flow identified the person otherwise (a reset link), else the job running
    (`acting_as`), else `anonymous` (a sign-up)."""
    if principal is None:
        if user_id is not None:
            return f"user:{user_id}", user_id
        return _system_actor.get() or "anonymous", None
    if principal.api_key_id is not None:
        return f"api_key:{principal.api_key_id}", principal.id
    return f"user:{principal.id}", principal.id


def add_entry(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    *,
    entity: str,
    entity_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    changes: Mapping[str, Any] | None = None,
    user_id: uuid.UUID | None = None,
) -> AuditEntry:
    """Add one entry to `session` (it is written with the session's next flush or commit).
    `user_id` names the person acting when there is no `principal` (see `actor_of`)."""
    actor, user_id = actor_of(principal, user_id)
    entry = AuditEntry(
        actor=actor,
        user_id=user_id,
        organization_id=organization_id,
        entity_type=entity,
        entity_id=entity_id,
        action=action,
        changes=jsonable(dict(changes or {})),
        request_id=current_request_id(),
    )
    session.add(entry)
    return entry


def record(
    bound: SessionBound,
    action: str,
    *,
    entity: str,
    entity_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    changes: Mapping[str, Any] | None = None,
    user_id: uuid.UUID | None = None,
) -> AuditEntry:
    """Record an event that is not a plain create/update/delete/restore (a role transfer, a
    password change) in the unit of work of `bound` (a controller or service), as its caller.
    `changes` go to the log as given: leave secrets out. `user_id`: the person acting in a
    flow without a caller (a password reset by link)."""
    return add_entry(
        bound.session,
        bound.principal,
        action,
        entity=entity,
        entity_id=entity_id,
        organization_id=organization_id,
        changes=changes,
        user_id=user_id,
    )


async def purge_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete the entries older than `cutoff` (the retention job); how many went."""
    result: Any = await session.execute(delete(AuditEntry).where(AuditEntry.created_at < cutoff))
    return int(result.rowcount or 0)


class AuditRead(BaseModel):
    """One audit entry as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    actor: str
    user_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    entity_type: str
    entity_id: uuid.UUID | None
    action: str
    changes: dict[str, Any]
    request_id: str | None


class AuditFilters(FilterSet):
    """Query filters of the audit log; all optional, combined with AND."""

    actor: str | None = Filter(
        AuditEntry.actor, max_length=200, description="`user:<id>`, `api_key:<id>`, `system:<job>`"
    )
    user_id: uuid.UUID | None = Filter(AuditEntry.user_id, description="The person acting")
    entity_type: str | None = Filter(AuditEntry.entity_type, max_length=100)
    entity_id: uuid.UUID | None = Filter(AuditEntry.entity_id)
    action: str | None = Filter(AuditEntry.action, max_length=100)
    since: Timestamp | None = Filter(
        AuditEntry.created_at, ">=", description="From this time (inclusive)"
    )
    until: Timestamp | None = Filter(AuditEntry.created_at, "<", description="Before this time")


class AuditRepository(BaseRepository[AuditEntry]):
    """Audit entries; keyset pages walk `(created_at, id)`, newest first."""

    model = AuditEntry

    async def page(
        self,
        filters: AuditFilters,
        params: CursorParams,
        *,
        organization_id: uuid.UUID | None = None,
    ) -> CursorResult[AuditEntry]:
        """One keyset page of the entries matching `filters` (of one organization, if given),
        newest first. A cursor only continues the list, organization and filters it came from."""
        stmt = filters.apply(self.select())
        if organization_id is not None:
            stmt = stmt.where(AuditEntry.organization_id == organization_id)
        binding = cursor_binding("audit", parent_id=organization_id, filters=filters)
        return await self.page_keyset(
            stmt, limit=params.limit, cursor=params.cursor, binding=binding
        )
