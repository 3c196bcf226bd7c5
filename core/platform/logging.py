"""Logging: one JSON object per line in production, readable text in development.

Every record carries the request id of the request being served (`request_id`), app logs and
uvicorn/gunicorn logs alike, because the formatters and filter sit on the handlers. Access-log
paths lose their query string (it may hold tokens), and every line has credentials redacted
(`RedactFilter`): query parameters such as `access_token`, `ticket`, `code` or `state` in any
URL a message carries (uvicorn's WebSocket lines, links), bearer tokens and API keys.

`logging_config(settings)` is the one `logging.config.dictConfig` dictionary for every server:

    uvicorn.run(..., log_config=logging_config(settings))       # main.py
    logconfig_dict = logging_config(get_settings())              # compose/gunicorn.conf.py
"""

import json
import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from configs import Settings
from core.context import current_request_id
from core.middleware import PROBE_PATH_PREFIXES, is_probe, observe

JSON = "json"
TEXT = "text"
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"

# Attributes every LogRecord has; anything else came from `extra=` and is emitted as a field.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName", "color_message"}
)
_ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access")
SECRET_PARAMETERS = (
    "access_token", "refresh_token", "id_token", "token", "ticket", "code", "state",
    "password", "secret", "api_key", "key", "signature", "session",
)  # fmt: skip
"""Query parameters whose values never reach a log line (`name=[redacted]`)."""
REDACTED = "[redacted]"
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:%s)=)[^&;\s\"'#<>]*" % "|".join(SECRET_PARAMETERS)  # noqa: UP031
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_API_KEY = re.compile(r"\bplk_[A-Za-z0-9_]+")


def redact(text: str) -> str:
    """`text` with credentials replaced by `[redacted]`: secret query parameters in URLs,
    bearer tokens and API keys."""
    text = _SECRET_QUERY.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _API_KEY.sub(REDACTED, text)


def _redact_value(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


class RedactFilter(logging.Filter):
    """Redacts credentials (`redact`) from the message and its arguments, whichever logger
    wrote it: uvicorn logs a WebSocket's path with its query string, for one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        return True


def log_format(settings: Settings) -> str:
    """`json` or `text`: LOG_FORMAT, where `auto` means JSON in production."""
    chosen = settings.logging.format
    if chosen == "auto":
        return JSON if settings.app.is_production else TEXT
    return chosen


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


def _strip_query(path: object) -> object:
    return path.split("?", 1)[0] if isinstance(path, str) else path


class AccessLogFilter(logging.Filter):
    """uvicorn access records: drops the query string and names the fields for JSON output.
    Health probes and metrics scrapes are not logged (orchestrators poll them constantly)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, http_version, status = args
            path = _strip_query(path)
            if str(path).startswith(PROBE_PATH_PREFIXES):
                return False
            record.args = (client, method, path, http_version, status)
            record.client = client
            record.method = method
            record.path = path
            record.status = status
        return True


def _request_id(record: logging.LogRecord) -> str | None:
    value = getattr(record, "request_id", None) or current_request_id()
    return None if value in (None, "-") else str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, extras, error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


ACCESS_LOGGER = "plinth.access"
access_logger = logging.getLogger(ACCESS_LOGGER)


class AccessLogMiddleware:
    """One access line per request, written by the app instead of the server (uvicorn's own
    access log is off): probes and scrapes are skipped before any record exists, the path never
    carries the query string, and the line has the duration. Fields for JSON output: `client`,
    `method`, `path`, `status`, `duration_ms`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or is_probe(scope)
            or not access_logger.isEnabledFor(logging.INFO)
        ):
            await self.app(scope, receive, send)
            return
        await observe(self.app, scope, receive, send, self._line)

    @staticmethod
    def _line(scope: Scope, status: int, seconds: float) -> None:
        peer = scope.get("client")
        client = f"{peer[0]}:{peer[1]}" if peer else "-"
        method, path = scope["method"], scope["path"]
        access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            client,
            method,
            path,
            scope["http_version"],
            status,
            extra={
                "client": client,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
            },
        )


def logging_config(settings: Settings) -> dict[str, Any]:
    """The dictConfig for the app, uvicorn and gunicorn: one format, one level, stderr."""
    formatter = log_format(settings)
    level = settings.logging.level.upper()

    def handler(*filters: str) -> dict[str, Any]:
        return {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": formatter,
            "filters": list(filters),
        }

    def server_logger(handler_name: str) -> dict[str, Any]:
        return {"handlers": [handler_name], "level": level, "propagate": False}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "access": {"()": AccessLogFilter},
            "redact": {"()": RedactFilter},
        },
        "formatters": {
            JSON: {"()": JsonFormatter},
            TEXT: {"format": TEXT_FORMAT},
        },
        "handlers": {
            "default": handler("request_id", "redact"),
            "access": handler("request_id", "access", "redact"),
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": server_logger("default"),
            "uvicorn.error": {"level": level},
            "uvicorn.access": server_logger("access"),
            ACCESS_LOGGER: server_logger("default"),
            "gunicorn.error": server_logger("default"),
            "gunicorn.access": server_logger("access"),
            "alembic.runtime.plugins": {"level": "WARNING"},  # a line per autogenerate plugin
        },
    }


def configure_logging(settings: Settings) -> None:
    """Apply `logging_config(settings)` to this process (scripts, CLIs, workers)."""
    logging.config.dictConfig(logging_config(settings))
