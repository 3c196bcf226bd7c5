"""The console's own pages: request logs (the admin API's filters and keyset pages) and the
place of the audit log."""

from typing import Any

from pydantic import ValidationError
from sqladmin import BaseView, expose
from starlette.requests import Request
from starlette.responses import Response

from core.db import Database
from core.errors import AppError
from core.pagination import cursor_binding
from core.platform.requestlog.admin import RequestLogFilters, RequestLogRepository
from core.service import unit_of_work
from routers.console.views import is_admin

PAGE_SIZE = 50
FILTERS = tuple(RequestLogFilters.model_fields)


class RequestLogView(BaseView):
    """GET /admin/request-logs: newest first, filtered by the API's `RequestLogFilters`, one
    keyset page at a time (`cursor`), as GET /api/v1/admin/request-logs pages them."""

    name, icon = "Request logs", "fa-solid fa-list"

    def is_accessible(self, request: Request) -> bool:
        return is_admin(request)

    @expose("/request-logs", identity="request-logs")
    async def page(self, request: Request) -> Response:
        given = {k: v for k, v in request.query_params.items() if k in FILTERS and v}
        context: dict[str, Any] = {"filters": given, "names": FILTERS, "rows": [], "error": None}
        try:
            filters = RequestLogFilters.model_validate(given)
            context.update(await _page(request, filters))
        except ValidationError as exc:
            context["error"] = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        except AppError as exc:
            context["error"] = exc.detail
        return await self.templates.TemplateResponse(request, "console/request_logs.html", context)


async def _page(request: Request, filters: RequestLogFilters) -> dict[str, Any]:
    database: Database = request.app.state.database
    cursor = request.query_params.get("cursor") or None
    async with unit_of_work(database, read_only=True) as session:
        logs = RequestLogRepository(session)
        binding = cursor_binding("admin.request_logs", filters=filters)
        page = await logs.page_keyset(
            filters.apply(logs.select()), limit=PAGE_SIZE, cursor=cursor, binding=binding
        )
    return {"rows": list(page.items), "next_cursor": page.next_cursor}


class AuditLogView(BaseView):
    """AUDIT LOG: the place of the audit log's page (core/audit, another branch). The lead adds
    its read-only, filtered, keyset-paged list here at merge, like `RequestLogView`."""

    name, icon = "Audit log", "fa-solid fa-clipboard-list"

    def is_accessible(self, request: Request) -> bool:
        return is_admin(request)

    @expose("/audit-log", identity="audit-log")
    async def page(self, request: Request) -> Response:
        return await self.templates.TemplateResponse(request, "console/audit_log.html")
