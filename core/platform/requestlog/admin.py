"""Reading request logs: the admin API's row schema, filters and keyset page."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.filtering import FilterSet
from core.pagination import CursorCodec, CursorPage
from core.platform.requestlog.models import MAX_ROUTE_LENGTH, RequestLog


class RequestLogRead(BaseModel):
    """One request-log row as the admin API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    method: str
    route: str
    status: int
    duration_ms: float
    user_id: uuid.UUID | None
    client_ip: str | None
    request_id: str | None


class RequestLogFilters(FilterSet):
    """Query filters of GET /admin/request-logs; all optional, combined with AND."""

    user_id: uuid.UUID | None = None
    status: int | None = Field(default=None, ge=100, le=599)
    min_status: int | None = Field(default=None, ge=100, le=599, description="e.g. 500")
    route: str | None = Field(default=None, max_length=MAX_ROUTE_LENGTH, description="Template")
    method: str | None = Field(default=None, max_length=10)
    request_id: str | None = Field(default=None, max_length=128)
    since: AwareDatetime | None = Field(default=None, description="From this time (inclusive)")
    until: AwareDatetime | None = Field(default=None, description="Before this time")

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """Each field to its column, by hand."""
        equal = {
            RequestLog.user_id: self.user_id,
            RequestLog.status: self.status,
            RequestLog.route: self.route,
            RequestLog.method: self.method.upper() if self.method else None,
            RequestLog.request_id: self.request_id,
        }
        for column, value in equal.items():
            if value is not None:
                stmt = stmt.where(column == value)
        if self.min_status is not None:
            stmt = stmt.where(RequestLog.status >= self.min_status)
        if self.since is not None:
            stmt = stmt.where(RequestLog.created_at >= self.since)
        if self.until is not None:
            stmt = stmt.where(RequestLog.created_at < self.until)
        return stmt


async def page_request_logs(
    session: AsyncSession,
    filters: RequestLogFilters,
    *,
    limit: int,
    cursor: str | None,
    codec: CursorCodec,
) -> CursorPage[RequestLogRead]:
    """Newest first, keyset-paged over `(created_at, id)`: deep pages cost what the first does."""
    stmt = filters.apply(select(RequestLog))
    if cursor is not None:
        created_at, id_ = codec.decode(cursor, [datetime, uuid.UUID])
        stmt = stmt.where(tuple_(RequestLog.created_at, RequestLog.id) < tuple_(created_at, id_))
    stmt = stmt.order_by(RequestLog.created_at.desc(), RequestLog.id.desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    has_more = len(rows) > limit
    items = rows[:limit]
    next_cursor = codec.encode([items[-1].created_at, items[-1].id]) if has_more else None
    return CursorPage[RequestLogRead](
        items=[RequestLogRead.model_validate(row) for row in items],
        next_cursor=next_cursor,
        has_more=has_more,
    )
