"""The console's own pages: request logs and the audit log, each with the admin API's filters
and keyset pages (GET /api/v1/admin/request-logs and /admin/audit), read-only."""

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqladmin import BaseView, expose
from starlette.requests import Request
from starlette.responses import Response

from core.audit import AuditFilters, AuditRepository
from core.db import Database
from core.errors import AppError
from core.pagination import CursorParams
from core.platform.requestlog.admin import RequestLogFilters, RequestLogRepository
from core.service import unit_of_work
from routers.console.views import is_admin

PAGE_SIZE = 50


async def _filtered_page(
    view: BaseView,
    request: Request,
    filters_type: type[BaseModel],
    template: str,
    read: Callable[[Request, Any], Awaitable[dict[str, Any]]],
) -> Response:
    """A page of `template`: the query's filters validated by `filters_type` (a bad value is
    shown beside the form, never a 500), then `read`'s rows and next cursor."""
    names = tuple(filters_type.model_fields)
    given = {k: v for k, v in request.query_params.items() if k in names and v}
    context: dict[str, Any] = {"filters": given, "names": names, "rows": [], "error": None}
    try:
        context.update(await read(request, filters_type.model_validate(given)))
    except ValidationError as exc:
        context["error"] = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
    except AppError as exc:
        context["error"] = exc.detail
    return await view.templates.TemplateResponse(request, template, context)


class RequestLogView(BaseView):
    """GET /admin/request-logs: newest first, filtered by the API's `RequestLogFilters`, one
    keyset page at a time (`cursor`), as GET /api/v1/admin/request-logs pages them."""

    name, icon = "Request logs", "fa-solid fa-list"

    def is_accessible(self, request: Request) -> bool:
        return is_admin(request)

    @expose("/request-logs", identity="request-logs")
    async def page(self, request: Request) -> Response:
        return await _filtered_page(
            self, request, RequestLogFilters, "console/request_logs.html", _request_logs
        )


async def _request_logs(request: Request, filters: RequestLogFilters) -> dict[str, Any]:
    database: Database = request.app.state.database
    params = CursorParams(limit=PAGE_SIZE, cursor=request.query_params.get("cursor") or None)
    async with unit_of_work(database, read_only=True) as session:
        page = await RequestLogRepository(session).page(filters, params)
    return {"rows": list(page.items), "next_cursor": page.next_cursor}


class AuditLogView(BaseView):
    """GET /admin/audit-log: every organization's entries, newest first, filtered by the API's
    `AuditFilters`, one keyset page at a time, as GET /api/v1/admin/audit pages them."""

    name, icon = "Audit log", "fa-solid fa-clipboard-list"

    def is_accessible(self, request: Request) -> bool:
        return is_admin(request)

    @expose("/audit-log", identity="audit-log")
    async def page(self, request: Request) -> Response:
        return await _filtered_page(self, request, AuditFilters, "console/audit_log.html", _audit)


async def _audit(request: Request, filters: AuditFilters) -> dict[str, Any]:
    database: Database = request.app.state.database
    params = CursorParams(limit=PAGE_SIZE, cursor=request.query_params.get("cursor") or None)
    async with unit_of_work(database, read_only=True) as session:
        page = await AuditRepository(session).page(filters, params)
    return {"rows": list(page.items), "next_cursor": page.next_cursor}
