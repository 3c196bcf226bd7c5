"""/admin: operator views. Included with Gate.ADMIN."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from core.deps import SessionDep
from core.pagination import CursorCodec, CursorPage, CursorParams, cursor_params
from core.platform.requestlog.admin import RequestLogFilters, RequestLogRead, page_request_logs

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/request-logs", response_model=CursorPage[RequestLogRead])
async def list_request_logs(
    request: Request,
    session: SessionDep,
    filters: Annotated[RequestLogFilters, Query()],
    page: Annotated[CursorParams, Depends(cursor_params)],
) -> CursorPage[RequestLogRead]:
    """API requests served, newest first; pass `next_cursor` back as `cursor` for older ones.

    Rows reach the table in batches (REQUEST_LOG_FLUSH_INTERVAL_SECONDS), so the last seconds
    of traffic may not be listed yet.
    """
    codec = CursorCodec(request.app.state.settings.secret_key)
    return await page_request_logs(
        session, filters, limit=page.limit, cursor=page.cursor, codec=codec
    )
