"""Reading request logs: the admin API's row schema, filters and repository."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

from core.fields import Timestamp
from core.filtering import Filter, FilterSet
from core.pagination import CursorParams, cursor_binding
from core.platform.requestlog.models import MAX_ROUTE_LENGTH, RequestLog
from core.repository import BaseRepository, CursorResult


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

    user_id: uuid.UUID | None = Filter(RequestLog.user_id)
    api_key_id: uuid.UUID | None = Filter(RequestLog.api_key_id)
    status: int | None = Filter(RequestLog.status, ge=100, le=599)
    min_status: int | None = Filter(RequestLog.status, ">=", ge=100, le=599, description="e.g. 500")
    route: str | None = Filter(
        RequestLog.route, max_length=MAX_ROUTE_LENGTH, description="Template"
    )
    method: str | None = Filter(RequestLog.method, max_length=10)
    request_id: str | None = Filter(RequestLog.request_id, max_length=128)
    since: Timestamp | None = Filter(
        RequestLog.created_at, ">=", description="From this time (inclusive)"
    )
    until: Timestamp | None = Filter(RequestLog.created_at, "<", description="Before this time")

    @field_validator("method")
    @classmethod
    def _upper_case(cls, method: str | None) -> str | None:
        return method.upper() if method else None


class RequestLogRepository(BaseRepository[RequestLog]):
    """Request-log rows; keyset pages walk `(created_at, id)`, newest first."""

    model = RequestLog

    async def page(
        self, filters: RequestLogFilters, params: CursorParams
    ) -> CursorResult[RequestLog]:
        """One keyset page of the rows matching `filters`, newest first (GET
        /admin/request-logs and the console's page). A cursor only continues the list and
        filters it came from."""
        stmt = filters.apply(self.select())
        binding = cursor_binding("admin.request_logs", filters=filters)
        return await self.page_keyset(
            stmt, limit=params.limit, cursor=params.cursor, binding=binding
        )
