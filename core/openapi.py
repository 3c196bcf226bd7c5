"""The OpenAPI document: every status an operation can answer, derived from what it depends on.

Every error the API answers is a `Problem` (RFC 9457) sent as `application/problem+json`, and
the document says so for every operation, for every status it can answer — without listing
them route by route. `install_openapi` (the app factory calls it) completes FastAPI's document:

- statuses come from the route itself: any parameter or body → 422, a body → 400/413, a path
  parameter → 404, and from each dependency that declares what it answers with `answers()`
  (the gates → 401/403, rate limiters → 429, the database session → 503, 409 on writes, a
  cursor → 400), the endpoint too (`@cache` → 304), and `responses=problem_responses(...)`
  for what only the handler knows (a wrong password's 401);
- every error response has one content type, `application/problem+json`, with the `Problem`
  schema — FastAPI's `HTTPValidationError` is gone, because that is not what a 422 sends;
- headers: `X-Request-ID` on every answer, `WWW-Authenticate` on 401, `Retry-After` on 429
  and 503, and whatever a dependency declares on every answer of its routes (the
  `X-RateLimit-*` headers of a rate limiter);
- operation ids are the routes' names (`operation_ids(prefix)` namespaces a router's), and a
  duplicate one is an error at start-up rather than a client with two methods of one name.

A route of the user's own gets all of this by depending on the same things.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
FASTAPI_422_DESCRIPTION = "Validation Error"

STATUS_DESCRIPTIONS = {
    304: "Not modified: the `If-None-Match` ETag is current; no body.",
    400: "Bad request: a body that cannot be decoded, an invalid or foreign cursor, a used "
    "or expired link token.",
    401: "Not authenticated: no, an invalid or an expired token (or wrong credentials).",
    403: "Authenticated, but not allowed (a missing scope, not the owner, an API key).",
    404: "Not found, or not visible to the caller (the same answer for both).",
    409: "Conflicts with existing data or with the resource's state.",
    413: "The request body is larger than the configured limit.",
    415: "A file type the API does not accept, or bytes that are not of the type claimed.",
    422: "Invalid input; `errors` names each field.",
    429: "Rate limited; see `Retry-After`.",
    500: "An unexpected error; it is logged, and the body never carries a trace.",
    503: "A dependency (the database, Redis, the file store) is unavailable; see `Retry-After`.",
    504: "The request, or a database statement, took longer than the configured timeout.",
}


@dataclass(frozen=True)
class Header:
    """A response header as the document describes it."""

    description: str
    type: str = "string"
    required: bool = False

    def document(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "required": self.required,
            "schema": {"type": self.type},
        }


HEADERS = {
    "X-Request-ID": Header(
        "The request's id (the client's, when valid), as in logs.", "string", True
    ),
    "X-RateLimit-Limit": Header("Requests allowed in the tightest window that applies.", "integer"),
    "X-RateLimit-Remaining": Header("Requests left in that window.", "integer"),
    "X-RateLimit-Reset": Header("Seconds until that window is full again.", "integer"),
    "Retry-After": Header("Seconds to wait before trying again.", "integer", True),
    "WWW-Authenticate": Header("The scheme to authenticate with: `Bearer`.", "string", True),
    "ETag": Header("The body's hash: send it back as `If-None-Match` (while caching is on)."),
    "X-Cache": Header("`HIT` or `MISS`: whether the response cache served it."),
    "Cache-Control": Header("How the response may be cached."),
    "Location": Header("Where the client goes next.", "string", True),
    "Set-Cookie": Header("A cookie the flow needs (HttpOnly)."),
    "Referrer-Policy": Header("`no-referrer`: the URL carries a one-time value.", "string", True),
}
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
ERROR_HEADERS: Mapping[int, Sequence[str]] = {
    401: ("WWW-Authenticate",),
    429: ("Retry-After", *RATE_LIMIT_HEADERS),
    503: ("Retry-After",),
}
"""Headers every response of that status carries."""


class FieldError(BaseModel):
    """One invalid field: where it is and what is wrong."""

    loc: list[str | int] = Field(description="Path to the field, e.g. `['body', 'title']`.")
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details: every error the API answers has this shape."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "https://plinth.dev/problems/not-found",
                    "title": "Not found",
                    "status": 404,
                    "detail": "The thread does not exist.",
                    "errors": [],
                    "request_id": "5f0c2b8e9d1a4c3b8e7f6a5d4c3b2a19",
                },
                {
                    "type": "https://plinth.dev/problems/invalid-input",
                    "title": "Invalid input",
                    "status": 422,
                    "detail": "The request has invalid fields.",
                    "errors": [
                        {"loc": ["body", "title"], "msg": "Field required", "type": "missing"}
                    ],
                    "request_id": "5f0c2b8e9d1a4c3b8e7f6a5d4c3b2a19",
                },
            ]
        }
    )

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="The kind of problem, for people.")
    status: int = Field(description="The HTTP status, repeated.")
    detail: str = Field(description="This occurrence, for people.")
    errors: list[FieldError] = Field(
        default_factory=list,
        description="The invalid fields (422), or where the body is not JSON (400); else empty.",
    )
    request_id: str | None = Field(default=None, description="As in `X-Request-ID` and logs.")


def problem_content() -> dict[str, Any]:
    """The one content an error response has."""
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for what only the handler knows it can answer (e.g. a wrong password's
    401); what its dependencies, parameters and body can answer is added without asking."""
    return {
        status: {
            "description": STATUS_DESCRIPTIONS.get(status, "Error."),
            "content": problem_content(),
        }
        for status in statuses
    }


def response_headers(*names: str) -> dict[str, Any]:
    """The `headers` of a `responses=` entry, from the header names in `HEADERS`."""
    return {name: HEADERS[name].document() for name in names}


# -- what a dependency answers -----------------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    """What a dependency (or an endpoint) adds to every operation that uses it."""

    statuses: frozenset[int] = frozenset()
    on_write: frozenset[int] = frozenset()
    """Statuses added only to POST, PUT, PATCH and DELETE operations."""
    headers: tuple[str, ...] = field(default=())
    """Names of `HEADERS` the dependency puts on every answer of the operation."""
    success_headers: tuple[str, ...] = field(default=())
    """Names of `HEADERS` it puts on the operation's successes (2xx, 3xx) only."""


ANSWERS_ATTRIBUTE = "__openapi_answers__"
T = TypeVar("T")


def answers(
    *statuses: int,
    on_write: Iterable[int] = (),
    headers: Iterable[str] = (),
    success_headers: Iterable[str] = (),
) -> Callable[[T], T]:
    """Declare what a dependency can answer, for every operation that depends on it:

        @answers(401, 403)
        async def require_key(...) -> Principal: ...

    On a class, it covers every instance used as a dependency (`@answers(429) class Limiter`).
    """
    declared = Answers(
        frozenset(statuses), frozenset(on_write), tuple(headers), tuple(success_headers)
    )
    unknown = {*declared.headers, *declared.success_headers} - set(HEADERS)
    if unknown:
        raise ValueError(f"undocumented headers: {sorted(unknown)}")

    def mark(target: T) -> T:
        setattr(target, ANSWERS_ATTRIBUTE, declared)
        return target

    return mark


def declared_answers(call: object) -> Answers | None:
    """What `call` declared with `answers()` (for an instance: its class's declaration)."""
    found = getattr(call, ANSWERS_ATTRIBUTE, None)
    return found if isinstance(found, Answers) else None


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


@dataclass
class OperationAnswers:
    """Everything one operation can answer beyond its success, and the headers it sends."""

    statuses: set[int]
    headers: list[str]
    success_headers: list[str]


@dataclass(frozen=True)
class Operation:
    """One documented operation: what `derive_answers` reads of a route."""

    method: str
    path: str
    dependant: Dependant
    has_body: bool


def operations(routes: Iterable[Any]) -> Iterator[Operation]:
    """The documented operations of `routes` (included routers' routes with their gates)."""
    for context in iter_route_contexts(list(routes)):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        for method in sorted(context.methods or ()):
            yield Operation(
                method, str(context.path_format), context.dependant, context.body_field is not None
            )


def derive_answers(operation: Operation, every_operation: Iterable[int] = ()) -> OperationAnswers:
    """The error statuses and headers of `operation`: from its parameters and body, the
    dependencies it declares, and `every_operation` (what the middleware answers)."""
    statuses = set(every_operation)
    headers: list[str] = ["X-Request-ID"]
    success_headers: list[str] = []
    if get_flat_params(operation.dependant) or operation.has_body:
        statuses.add(422)
    if operation.has_body:
        statuses |= {400, 413}  # a body that cannot be decoded; one over the size limit
    if "{" in operation.path:
        statuses.add(404)
    for dependant in _dependants(operation.dependant):
        declared = declared_answers(dependant.call)
        if declared is None:
            continue
        statuses |= declared.statuses
        if operation.method in UNSAFE_METHODS:
            statuses |= declared.on_write
        headers += [name for name in declared.headers if name not in headers]
        success_headers += [n for n in declared.success_headers if n not in success_headers]
    return OperationAnswers(statuses, headers, success_headers)


# -- the document --------------------------------------------------------------------------------


def operation_id(route: APIRoute) -> str:
    """The default operationId: the route's name (its endpoint's, unless given as `name=`)."""
    return route.name


def operation_ids(prefix: str) -> Callable[[APIRoute], str]:
    """`generate_unique_id_function=` for a router whose operations are `<prefix>_<name>`."""

    def generate(route: APIRoute) -> str:
        return f"{prefix}_{route.name}"

    return generate


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, "Problem": schema}


def _complete_operation(operation: dict[str, Any], found: OperationAnswers) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(found.statuses):
        responses.setdefault(str(status), {})
    for code, response in responses.items():
        status = int(code) if code.isdigit() else 0
        if response.get("description") in (None, "", FASTAPI_422_DESCRIPTION):
            response["description"] = STATUS_DESCRIPTIONS.get(status, "Error.")
        if status >= 400:
            response["content"] = problem_content()
        names = [*found.headers, *ERROR_HEADERS.get(status, ())]
        if status < 400:
            names += found.success_headers
        documented = response.setdefault("headers", {})
        for name in names:
            documented.setdefault(name, HEADERS[name].document())
    operation["responses"] = dict(sorted(responses.items()))


def _references(value: Any, name: str) -> bool:
    if isinstance(value, dict):
        return value.get("$ref") == f"#/components/schemas/{name}" or any(
            _references(item, name) for item in value.values()
        )
    if isinstance(value, list):
        return any(_references(item, name) for item in value)
    return False


def complete_document(
    document: dict[str, Any], routes: Iterable[Any], every_operation: Iterable[int] = ()
) -> dict[str, Any]:
    """Add to FastAPI's `document` what each operation of `routes` can answer (see the module)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_problem_schemas())
    seen: dict[str, str] = {}
    statuses = tuple(every_operation)
    for found in operations(routes):
        operation = document["paths"][found.path][found.method.lower()]
        where = f"{found.method} {found.path}"
        previous = seen.setdefault(operation["operationId"], where)
        if previous != where:
            raise ValueError(
                f"operationId {operation['operationId']!r} names both {previous} and {where}"
            )
        _complete_operation(operation, derive_answers(found, statuses))
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
        if _references(document, name):
            raise ValueError(f"the document still refers to {name}")
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def install_openapi(app: FastAPI, *, every_operation: Iterable[int] = ()) -> None:
    """Complete the app's document (see the module) each time FastAPI builds it.
    `every_operation`: statuses any operation can answer (e.g. 500, and 504 with a timeout)."""
    generate = app.openapi
    statuses = tuple(every_operation)
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()
        if not completed or completed[0] is not document:
            complete_document(document, app.routes, statuses)
            completed[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
