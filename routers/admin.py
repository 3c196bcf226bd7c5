"""/admin: operator views. Included with the admin gate."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from core.audit import AuditFilters, AuditRead, AuditRepository
from core.deps import SessionDep
from core.openapi import operation_ids
from core.pagination import CursorPage, CursorParams, cursor_params
from core.platform.requestlog.admin import RequestLogFilters, RequestLogRead, RequestLogRepository
from core.routing import read_only

router = APIRouter(
    prefix="/admin", tags=["admin"], generate_unique_id_function=operation_ids("admin")
)


@router.get("/request-logs", response_model=CursorPage[RequestLogRead])
@read_only
async def list_request_logs(
    session: SessionDep,
    filters: Annotated[RequestLogFilters, Query()],
    page: Annotated[CursorParams, Depends(cursor_params)],
) -> Any:
    """API requests served, newest first; pass `next_cursor` back as `cursor` for older ones.

    Rows reach the table in batches (REQUEST_LOG_FLUSH_INTERVAL_SECONDS), so the last seconds
    of traffic may not be listed yet.
    """
    return await RequestLogRepository(session).page(filters, page)


@router.get("/audit", response_model=CursorPage[AuditRead])
@read_only
async def list_audit_entries(
    session: SessionDep,
    filters: Annotated[AuditFilters, Query()],
    page: Annotated[CursorParams, Depends(cursor_params)],
) -> Any:
    """The audit log of every organization and account, newest first: who created, changed,
    deleted or restored what, and the membership, invitation, API-key, scope and password
    events. Read-only: entries cannot be edited or deleted."""
    return await AuditRepository(session).page(filters, page)
