"""The one place where errors become HTTP responses: RFC 9457 problem details.

Every error — domain errors, validation, unknown routes, wrong methods and crashes — answers with
`{type, title, status, detail, errors, request_id}` and `application/problem+json`.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from core.context import current_request_id
from core.errors import AppError, GatewayTimeout, ServiceUnavailable
from core.middleware import REQUEST_ID_HEADER

logger = logging.getLogger("plinth.errors")

PROBLEM_TYPE_BASE = "https://plinth.dev/problems/"
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
    504: "Request timed out",
}


class ProblemResponse(JSONResponse):
    """JSON response with the problem-details media type."""

    media_type = "application/problem+json"


def problem(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_slug: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> ProblemResponse:
    """Build the one error response shape (`extensions` adds RFC 9457 extension members)."""
    request_id = request_id or current_request_id()
    body = problem_body(
        status,
        detail=detail,
        title=title,
        type_slug=type_slug,
        errors=errors,
        extensions=extensions,
        request_id=request_id,
    )
    all_headers = dict(headers or {})
    if request_id:
        all_headers.setdefault(REQUEST_ID_HEADER, request_id)
    return ProblemResponse(body, status_code=status, headers=all_headers)


def problem_body(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_slug: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    extensions: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The problem-details body alone: what `problem()` sends, and what other transports
    (WebSocket `error` frames) carry."""
    title = title or _TITLES.get(status, "Error")
    slug = type_slug or title.lower().replace(" ", "-")
    return {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail or title,
        "errors": jsonable_encoder(list(errors)),
        "request_id": request_id,
        **jsonable_encoder(dict(extensions or {})),
    }


def error_body(exc: AppError) -> dict[str, Any]:
    """The problem-details body of a domain error."""
    return problem_body(
        exc.status,
        detail=exc.detail,
        title=exc.title,
        type_slug=exc.type_slug,
        errors=exc.errors,
        extensions=exc.extensions,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without `input` and `ctx`: they may echo passwords back."""
    return [
        {
            "loc": list(error.get("loc", ())),
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]


def error_response(exc: AppError) -> ProblemResponse:
    """The problem response for a domain error (also usable as an ASGI app by middleware)."""
    return problem(
        exc.status,
        detail=exc.detail,
        title=exc.title,
        type_slug=exc.type_slug,
        errors=exc.errors,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _app_error(_: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, AppError)
    return error_response(exc)


STATEMENT_TIMEOUT_SQLSTATE = "57014"  # PostgreSQL query_canceled (statement_timeout)


async def _pool_timeout(_: Request, exc: Exception) -> ProblemResponse:
    logger.warning("database pool exhausted: %s", exc)
    return error_response(
        ServiceUnavailable("The database is busy; try again shortly.", headers={"Retry-After": "1"})
    )


async def _database_error(_: Request, exc: Exception) -> ProblemResponse:
    """A statement cancelled by DATABASE_STATEMENT_TIMEOUT_MS is a 504; a connection lost
    mid-request (database restart, failover) is a 503 — the pool has already discarded it, so a
    retry gets a fresh one; other database errors crash (500, logged)."""
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated:
        logger.warning("database connection lost: %s", type(exc.orig).__name__)
        return error_response(
            ServiceUnavailable(
                "The database connection was lost; try again.", headers={"Retry-After": "1"}
            )
        )
    if getattr(exc.orig, "sqlstate", None) != STATEMENT_TIMEOUT_SQLSTATE:
        raise exc
    logger.warning("database statement timed out: %s", type(exc.orig).__name__)
    return error_response(GatewayTimeout("A database query took too long and was cancelled."))


async def _validation_error(_: Request, exc: Exception) -> ProblemResponse:
    """422 for invalid fields; 400 for a body that is not JSON at all (well-formed JSON of the
    wrong shape is a 422)."""
    assert isinstance(exc, RequestValidationError)
    undecodable = _undecodable_body(exc)
    if undecodable is not None:
        return problem(400, detail="The request body is not valid JSON.", errors=undecodable)
    return problem(
        422,
        detail="The request has invalid fields.",
        type_slug="invalid-input",
        errors=_validation_errors(exc),
    )


def _undecodable_body(exc: RequestValidationError) -> list[dict[str, Any]] | None:
    """Where the body failed to decode as JSON, or None if it did. FastAPI reports a parse
    error as `json_invalid`, and passes the raw bytes of a body sent with another content
    type (or none) to the body's model, which refuses them."""
    errors = exc.errors()
    failed = [error for error in errors if error.get("type") == "json_invalid"]
    if failed:
        return [
            {
                "loc": list(error.get("loc", ())),
                "msg": str(error.get("ctx", {}).get("error") or error.get("msg", "")),
                "type": "json_invalid",
            }
            for error in failed
        ]
    if isinstance(exc.body, bytes) and any(
        tuple(e.get("loc", ()))[:1] == ("body",) for e in errors
    ):
        message = "The body must be JSON sent as Content-Type: application/json."
        return [{"loc": ["body"], "msg": message, "type": "json_invalid"}]
    return None


async def _http_error(_: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such route."
    return problem(exc.status_code, detail=detail, headers=exc.headers)


async def _unhandled_error(request: Request, exc: Exception) -> ProblemResponse:
    # This handler runs outside the request-id middleware, so read the id from the scope.
    request_id = getattr(request.state, "request_id", None)
    logger.error(
        "unhandled error on %s %s",
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"request_id": request_id} if request_id else None,
    )
    return problem(
        500,
        detail="An unexpected error occurred. It has been logged.",
        request_id=request_id,
    )


class Answered(Exception):
    """Raised by a dependency that already holds the whole answer (a response-cache hit): the
    response is sent as it is, and the rest of the route — its later dependencies, the
    endpoint — does not run."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _answered(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Answered)
    return exc.response


RESPONSE_HEADERS_KEY = "plinth.response_headers"
Handler = Callable[[Request, Exception], Awaitable[Response]]


def response_headers(request: Request) -> dict[str, str]:
    """Headers every response to this request carries, error responses included. A dependency
    adds to them (the deprecation headers of `core.versioning` do); requests that add nothing
    cost nothing."""
    headers: dict[str, str] = request.scope.setdefault(RESPONSE_HEADERS_KEY, {})
    return headers


def _with_response_headers(handler: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        response = await handler(request, exc)
        extra = request.scope.get(RESPONSE_HEADERS_KEY)
        if extra:
            response.headers.update(extra)
        return response

    return handle


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of error to the problem-details shape (and send an `Answered`
    dependency's response)."""
    handlers: list[tuple[type[Exception], Handler]] = [
        (Answered, _answered),
        (AppError, _app_error),
        (RequestValidationError, _validation_error),
        (StarletteHTTPException, _http_error),
        (PoolTimeout, _pool_timeout),
        (DBAPIError, _database_error),
        (Exception, _unhandled_error),
    ]
    for error, handler in handlers:
        app.add_exception_handler(error, _with_response_headers(handler))
