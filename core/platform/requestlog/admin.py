"""Reading request logs: the admin API's row schema, filters and repository."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select

from core.fields import Timestamp
from core.filtering import FilterSet
from core.platform.requestlog.models import MAX_ROUTE_LENGTH, RequestLog
from core.repository import BaseRepository


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
    api_key_id: uuid.UUID | None = None
    client_ip: str | None
    request_id: str | None


class RequestLogFilters(FilterSet):
    """Query filters of GET /admin/request-logs; all optional, combined with AND."""

    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    status: int | None = Field(default=None, ge=100, le=599)
    min_status: int | None = Field(default=None, ge=100, le=599, description="e.g. 500")
    route: str | None = Field(default=None, max_length=MAX_ROUTE_LENGTH, description="Template")
    method: str | None = Field(default=None, max_length=10)
    request_id: str | None = Field(default=None, max_length=128)
    since: Timestamp | None = Field(default=None, description="From this time (inclusive)")
    until: Timestamp | None = Field(default=None, description="Before this time")

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """Each field to its column, by hand."""
        equal = {
            RequestLog.user_id: self.user_id,
            RequestLog.api_key_id: self.api_key_id,
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


class RequestLogRepository(BaseRepository[RequestLog]):
    """Request-log rows; keyset pages walk `(created_at, id)`, newest first."""

    model = RequestLog
