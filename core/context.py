"""Per-request context shared by logs, errors and metrics without passing it around."""

import re
import uuid
from contextvars import ContextVar
from typing import Any

from starlette.requests import HTTPConnection

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def accept_request_id(candidate: str | None) -> str:
    """Keep a client's X-Request-ID when it is short and plain; otherwise make a new one."""
    if candidate and _VALID_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The request id of the request being served, if any."""
    return request_id_var.get()


def request_state(connection: HTTPConnection) -> dict[str, Any]:
    """The request's state as the plain dict behind `request.state`: reading a key that is not
    there is a `.get()`, not the `AttributeError` `getattr(request.state, ...)` raises and
    catches — measurable on a path every request takes."""
    state: dict[str, Any] = connection.scope.setdefault("state", {})
    return state
