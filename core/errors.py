"""Domain errors. Each carries its HTTP status; `core.http` turns them into problem details.

Raise these from repositories, controllers and services; never build HTTP responses there.
"""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error the API answers on purpose (RFC 9457 problem details).

    `extensions` become extension members of the body, beside `detail` (e.g. a challenge the
    client answers next); they must never carry anything the caller should not see.
    """

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    type_slug: ClassVar[str] = "bad-request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.errors = list(errors or [])
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})
        super().__init__(self.detail)


class BadRequest(AppError):
    """The request is malformed in a way field validation cannot express (e.g. a bad cursor)."""


class Unauthorized(AppError):
    """Missing or invalid credentials."""

    status = 401
    title = "Not authenticated"
    type_slug = "unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    """Authenticated, but not allowed."""

    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(AppError):
    """No such resource, or one the caller may not know exists."""

    status = 404
    title = "Not found"
    type_slug = "not-found"


class MethodNotAllowed(AppError):
    """The route exists but not with this method."""

    status = 405
    title = "Method not allowed"
    type_slug = "method-not-allowed"


class Conflict(AppError):
    """The write conflicts with existing data (unique key, state)."""

    status = 409
    title = "Conflict"
    type_slug = "conflict"


class PayloadTooLarge(AppError):
    """The request body is over the configured limit."""

    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class UnsupportedMediaType(AppError):
    """The file's type is not one the API accepts, or its bytes are not of the type claimed."""

    status = 415
    title = "Unsupported media type"
    type_slug = "unsupported-media-type"


class InvalidInput(AppError):
    """Field-level validation or a business rule on input; `errors` names the fields."""

    status = 422
    title = "Invalid input"
    type_slug = "invalid-input"


class TooManyRequests(AppError):
    """A rate limit was hit."""

    status = 429
    title = "Too many requests"
    type_slug = "too-many-requests"


class ServiceUnavailable(AppError):
    """A dependency (database pool, Redis) cannot serve right now; `Retry-After` says when to
    try again (5 s unless given)."""

    status = 503
    title = "Service unavailable"
    type_slug = "service-unavailable"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": "5"})
        super().__init__(detail, **kwargs)


class GatewayTimeout(AppError):
    """The request took longer than the configured timeout."""

    status = 504
    title = "Request timed out"
    type_slug = "timeout"


def field_error(loc: Sequence[str | int], msg: str, type_: str = "value_error") -> dict[str, Any]:
    """One entry of `errors[]`, shaped like pydantic's so clients parse one format."""
    return {"loc": list(loc), "msg": msg, "type": type_}
