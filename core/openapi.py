"""What the OpenAPI document says about errors: the one problem shape, per status."""

from typing import Any

from pydantic import BaseModel, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
"""The schema errors are sent with, under the media type they are sent as (generated clients
read the first media type of a response)."""

_DESCRIPTIONS = {
    400: "Bad request (e.g. an invalid cursor).",
    401: "Not authenticated.",
    403: "Authenticated, but not allowed.",
    404: "Not found, or not visible to the caller.",
    409: "Conflicts with existing data.",
    413: "The body is too large.",
    422: "Invalid input; `errors` names each field.",
    429: "Rate limited; see `Retry-After`.",
    503: "A dependency is unavailable; see `Retry-After`.",
}


class FieldError(BaseModel):
    """One invalid field: where it is and what is wrong."""

    loc: list[str | int] = Field(description="Path to the field, e.g. `['body', 'title']`.")
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details: every error the API answers has this shape."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(default_factory=list)
    request_id: str | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can answer these error statuses with a `Problem`."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(status, "Error."),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
        }
        for status in statuses
    }
