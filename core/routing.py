"""One flat route table: what `include_router` built before FastAPI 0.137, built once.

Since 0.137 FastAPI keeps every included router as a node and resolves the tree on each
request: it sums the routers' versions, then matches through every branch twice. With the
API's seventeen routers under `/api/v1` that walk cost more than the route's own work.
`flatten_routes(app)` rebuilds the table FastAPI would have copied — each route with its full
path, tags, responses and the dependencies of every router above it, in the same order — so a
request is matched against one list, once. `create_application` calls it after
`include_routes`; a route added later is still served, through FastAPI's own tree.
"""

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
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


def _flat_api_route(context: Any) -> APIRoute:
    original: APIRoute = context.original_route
    route_class = type(original)
    return route_class(
        context.path,
        context.endpoint,
        response_model=context.response_model,
        status_code=context.status_code,
        tags=list(context.tags),
        dependencies=_needed(context.dependencies, context.methods),
        summary=context.summary,
        description=context.description,
        response_description=context.response_description,
        responses=dict(context.responses),
        deprecated=context.deprecated,
        name=context.name,
        methods=set(context.methods),
        operation_id=context.operation_id,
        response_model_include=context.response_model_include,
        response_model_exclude=context.response_model_exclude,
        response_model_by_alias=context.response_model_by_alias,
        response_model_exclude_unset=context.response_model_exclude_unset,
        response_model_exclude_defaults=context.response_model_exclude_defaults,
        response_model_exclude_none=context.response_model_exclude_none,
        include_in_schema=context.include_in_schema,
        response_class=context.response_class,
        dependency_overrides_provider=context.dependency_overrides_provider,
        callbacks=context.callbacks,
        openapi_extra=context.openapi_extra,
        generate_unique_id_function=context.generate_unique_id_function,
        strict_content_type=context.strict_content_type,
    )


def flat_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """`routes` with every included router expanded into its effective routes, in order."""
    flat: list[BaseRoute] = []
    for context in iter_route_contexts(routes):
        included = context._route_context  # None for a route declared on the app itself
        if included is None:
            flat.append(context.route)
        elif isinstance(context.original_route, APIRoute):
            flat.append(_flat_api_route(included))
        else:  # websocket routes and mounts: FastAPI built them with the full path already
            assert included.starlette_route is not None
            flat.append(included.starlette_route)
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
