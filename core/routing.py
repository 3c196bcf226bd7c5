"""One flat route table: what `include_router` built before FastAPI 0.137, built once.

Since 0.137 FastAPI keeps every included router as a node and resolves the tree on each
request: it sums the routers' versions, then matches through every branch twice. With the
API's seventeen routers under `/api/v1` that walk cost more than the route's own work.
`flatten_routes(app)` rebuilds the table FastAPI would have copied — each route with its full
path, tags, responses and the dependencies of every router above it, in the same order — so a
request is matched against one list, once. `create_application` calls it after
`include_routes`; a route added later is still served, through FastAPI's own tree.

It builds each route once, from the include contexts, and never asks FastAPI for its
effective routes: those analyse every endpoint's dependencies again, and building the app
took three times as long (0.45 s against 0.15 s, most of it in tests that build one each).
"""

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, APIWebSocketRoute, _IncludedRouter, _RouterIncludeContext
from fastapi.utils import get_value_or_default
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES_ONLY = "__plinth_writes_only__"
_READ_ONLY = "__plinth_read_only__"
EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def read_only(endpoint: EndpointT) -> EndpointT:
    """Mark a GET route whose unit of work only reads: on PostgreSQL it runs without a
    transaction (no `BEGIN`/`COMMIT` round trips; see `Database.session(read_only=True)`), and
    a write or row lock in it raises `ReadOnlyViolation` before reaching the database. The
    CRUD router's `list` and `get` routes are marked; mark a custom read route yourself:

        @router.get("/{todo_id}/summary")
        @read_only
        async def summary(todo_id: UUID, todos: Todos) -> Summary: ...

    Leave unmarked a GET route that writes (a sign-in callback, a confirmation link)."""
    setattr(endpoint, _READ_ONLY, True)
    return endpoint


def is_read_only(connection: HTTPConnection) -> bool:
    """Whether the request's route is marked `read_only` (and the method is a safe one)."""
    endpoint = getattr(connection.scope.get("route"), "endpoint", None)
    safe = connection.scope.get("method", "GET") in SAFE_METHODS
    return safe and getattr(endpoint, _READ_ONLY, False)


def writes_only(dependency: DependsParam) -> DependsParam:
    """Mark a dependency that does nothing on safe methods (GET, HEAD, OPTIONS), such as a cache
    invalidation: attached to a router, `flatten_routes` leaves it off that router's reads, so
    they do not pay for it."""
    setattr(dependency.dependency, _WRITES_ONLY, True)
    return dependency


def _needed(dependencies: list[DependsParam], methods: set[str]) -> list[DependsParam]:
    if not methods <= SAFE_METHODS:
        return list(dependencies)
    return [d for d in dependencies if not getattr(d.dependency, _WRITES_ONLY, False)]


def _flat_api_route(route: APIRoute, context: _RouterIncludeContext) -> APIRoute:
    """`route` as `include_router` with `context` makes it (FastAPI's `from_api_route`)."""
    methods = set(route.methods or ())
    return type(route)(
        context.path_for(route),
        route.endpoint,
        response_model=route.response_model,
        status_code=route.status_code,
        tags=[*context.tags, *route.tags],
        dependencies=_needed([*context.dependencies, *route.dependencies], methods),
        summary=route.summary,
        description=route.description,
        response_description=route.response_description,
        responses={**context.responses, **route.responses},
        deprecated=route.deprecated or context.deprecated,
        name=route.name,
        methods=methods,
        operation_id=route.operation_id,
        response_model_include=route.response_model_include,
        response_model_exclude=route.response_model_exclude,
        response_model_by_alias=route.response_model_by_alias,
        response_model_exclude_unset=route.response_model_exclude_unset,
        response_model_exclude_defaults=route.response_model_exclude_defaults,
        response_model_exclude_none=route.response_model_exclude_none,
        include_in_schema=route.include_in_schema and context.include_in_schema,
        response_class=get_value_or_default(
            route.response_class,
            context.included_router.default_response_class,
            context.default_response_class,
        ),
        dependency_overrides_provider=context.dependency_overrides_provider,
        callbacks=[*context.callbacks, *(route.callbacks or [])],
        openapi_extra=route.openapi_extra,
        generate_unique_id_function=get_value_or_default(
            route.generate_unique_id_function,
            context.included_router.generate_unique_id_function,
            context.generate_unique_id_function,
        ),
        strict_content_type=get_value_or_default(
            route.strict_content_type,
            context.included_router.strict_content_type,
            context.strict_content_type,
        ),
    )


def _expand(branch: _IncludedRouter) -> Iterator[BaseRoute]:
    context = branch.include_context
    if branch.original_router._low_priority_routes:  # frontend routes: not flattened here
        raise RuntimeError("flatten_routes does not handle an included router's frontend routes")
    for route in branch.original_router.routes:
        if isinstance(route, _IncludedRouter):
            combined = context.combine(route.include_context)
            yield from _expand(_IncludedRouter(route.original_router, combined))
        elif isinstance(route, APIRoute):
            yield _flat_api_route(route, context)
        else:  # websocket routes and mounts: FastAPI's own copy, with the full path
            built = branch._build_effective_context(route)
            if built is not None and built.starlette_route is not None:
                yield built.starlette_route


def flat_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """`routes` with every included router expanded into its effective routes, in order. Each
    route is built once, straight from the include contexts: FastAPI's own effective contexts
    would analyse every endpoint's dependencies a second time."""
    flat: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, _IncludedRouter):
            flat.extend(_expand(route))
        else:
            flat.append(route)
    return flat


def flatten_routes(app: FastAPI) -> None:
    """Replace the app's route tree by one flat table (see the module docstring)."""
    app.router.routes[:] = flat_routes(list(app.router.routes))


def path_params_of(path: str) -> set[str]:
    """The names of the `{param}`s of a route path (`{name:converter}` included)."""
    return set(_PATH_PARAM.findall(path))


def _bound_path_params(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.path_params}
    for sub in dependant.dependencies:
        names |= _bound_path_params(sub)
    return names


def refuse_unbound_path_params(routes: Iterable[BaseRoute]) -> None:
    """Raise at start-up if a route's path has a `{param}` that neither its endpoint nor any
    of its dependencies takes: such a segment matches anything and is never checked (a
    "nested" route that ignores its parent). `create_application` runs it over every route."""
    for route in routes:
        if not isinstance(route, APIRoute | APIWebSocketRoute):
            continue
        unbound = path_params_of(route.path) - _bound_path_params(route.dependant)
        if unbound:
            methods = ",".join(sorted(getattr(route, "methods", None) or {"WEBSOCKET"}))
            raise RuntimeError(
                f"route {methods} {route.path}: nothing binds the path parameter(s) "
                f"{', '.join(sorted(unbound))} — take them as endpoint or dependency "
                "parameters, or remove them from the path"
            )
