"""API request logs: `models` (the table), `writer` (middleware, buffer, batched writer) and
`admin` (the read side: schema, filters, pages)."""

from core.platform.requestlog.admin import RequestLogFilters, RequestLogRead
from core.platform.requestlog.models import RequestLog
from core.platform.requestlog.writer import (
    RequestLogBuffer,
    RequestLogMiddleware,
    RequestLogWriter,
    install_request_log,
    request_log_lifespan,
    route_template,
    trusted_client_ip,
)

__all__ = [
    "RequestLog",
    "RequestLogBuffer",
    "RequestLogFilters",
    "RequestLogMiddleware",
    "RequestLogRead",
    "RequestLogWriter",
    "install_request_log",
    "request_log_lifespan",
    "route_template",
    "trusted_client_ip",
]
