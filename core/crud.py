"""`CrudRouter`: the HTTP routes of a controller, generated.

    router = CrudRouter(TodoController, TodoRead, prefix="/todos")

gives, each with its response schema, status code and documented errors:

| route                        | calls                          | answers |
|------------------------------|--------------------------------|---------|
| `GET    /todos`              | `list`                         | 200 page |
| `POST   /todos`              | `create`                       | 201 |
| `GET    /todos/{todo_id}`    | `get`                          | 200 |
| `PATCH  /todos/{todo_id}`    | `update`                       | 200 |
| `DELETE /todos/{todo_id}`    | `delete` (soft)                | 204 |
| `POST   /todos/{todo_id}/restore` | `restore` (soft-deleting models) | 200 |

The list takes the controller's `filterset` as query parameters and its `pagination`'s paging
parameters (`limit` with `offset` and `sort`, or `cursor`), and answers with its page schema.

A model with a file field (`core.files.file_field`, `attachment_id`) also gets
`PUT/GET/DELETE /todos/{todo_id}/files/attachment`: attach one of the caller's confirmed
files (the row's update permission), a short-lived download URL (whoever sees the row), remove
it (docs/guides/files.md).

Leave routes out with `exclude=("delete",)` (`"files"` for the file routes). Add custom
routes to the same router as usual (`@router.post("/{todo_id}/archive")`): they are matched
before the generated ones, and a custom route with the method and path of a generated one
replaces it.

A child collection (`Parent`) is mounted under its parent, whose id is the prefix's one path
parameter; every route then checks the parent:

    CrudRouter(TaskController, TaskRead, prefix="/projects/{project_id}/tasks")
    # GET/POST /projects/{project_id}/tasks, GET/PATCH/DELETE /projects/{project_id}/tasks/{task_id}

A child reached through a parent it does not belong to, a parent the caller cannot see or one
that does not exist is a 404, and nothing changes. A tenant-scoped controller (`tenant =
Tenant(...)`, core/tenancy.py) is mounted the same way under its organization,
`prefix="/organizations/{organization_id}/documents"`: non-members get 404 on every route,
members whose role is too low 403. Mounted flat (`prefix="/tasks"`), a child
gets item routes only (checked against its visible parents) and its collection routes must be
excluded. A prefix whose path parameters nothing binds is refused here, and any route's at
start-up (`core.routing.refuse_unbound_path_params`).

The gate is attached where the router is included, as for any router. `list` and `get` run
in a read-only unit of work (`core.routing.read_only`: no transaction on PostgreSQL, and an
override that writes there fails loudly); custom routes choose for themselves.
"""

import inspect
import re
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from enum import Enum
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends, Query, status
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute
from pydantic import BaseModel

from core.controller import BaseController, types_of
from core.deps import provide
from core.files import FileAttach, FileDownload, FileRead, file_fields
from core.files.routes import FILE_ROUTE_PARAMS, file_field_calls
from core.openapi import operation_ids, problem_responses
from core.pagination import PageParams
from core.routing import path_params_of, read_only

Endpoint = Callable[..., Any]
Decorator = Callable[[Endpoint], Endpoint]
ROUTES = ("list", "create", "get", "update", "delete", "restore")
COLLECTION_ROUTES = ("list", "create")
READ_ROUTES = ("list", "get")
"""The generated routes that only read: their unit of work is read-only (`read_only`)."""
_KW = inspect.Parameter.KEYWORD_ONLY


class _Route(NamedTuple):
    endpoint: Endpoint
    path: str
    method: str
    status_code: int
    response_model: Any
    errors: tuple[int, ...]


def _param(name: str, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, _KW, annotation=annotation)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _reads_plain_rows(controller: type[BaseController[Any, Any, Any, Any]], schema: Any) -> bool:
    """Whether pages answered with `schema` can skip the ORM (`list(rows=True)`): the
    repository loads no related rows, and either every field of `schema` is a column of the
    model and `annotate` is not overridden, or `annotate_rows` is (it sets what is not a
    column). Reading pages as rows costs a fraction of building entities for them."""
    types = types_of(controller)
    if types.repository.load_options:
        return False
    if controller.annotate_rows is not BaseController.annotate_rows:
        return True
    return controller.annotate is BaseController.annotate and set(schema.model_fields) <= set(
        types.model.__table__.columns.keys()
    )


def _parent_param(
    controller: type[BaseController[Any, Any, Any, Any]], prefix: str, explicit: str | None
) -> str | None:
    """The prefix's path parameter that holds the parent id; refuses any other parameter."""
    params = path_params_of(prefix)
    name = controller.__name__
    if controller.parent is None and controller.tenant is None:
        if params or explicit:
            raise ValueError(
                f"CrudRouter({name}, prefix={prefix!r}): {name} declares no parent, so nothing "
                f"binds the path parameters {sorted(params)}; declare `parent = Parent(...)` "
                "or `tenant = Tenant(...)`"
            )
        return None
    if explicit is None and len(params) > 1:
        raise ValueError(
            f"CrudRouter({name}, prefix={prefix!r}): which of {sorted(params)} is the parent id? "
            "Pass parent_param="
        )
    parent = explicit or next(iter(params), None)
    unbound = params - {parent}
    if (parent is not None and parent not in params) or unbound:
        missing = sorted(unbound) if unbound else [parent]
        raise ValueError(
            f"CrudRouter({name}, prefix={prefix!r}): path parameters {missing} are not bound "
            "(the prefix holds one parameter, the parent's id)"
        )
    return parent


class CrudRouter(APIRouter):
    """An `APIRouter` with the CRUD routes of `controller`, answering with `read_schema`.

    Args:
        controller: the `BaseController` subclass the routes call.
        read_schema: what every route returns (one row, or the items of a page).
        prefix: the routes' path prefix; a child collection's holds the parent's id
            (`/projects/{project_id}/tasks`). Other keywords (`tags`, `dependencies`, …) are
            `APIRouter`'s.
        exclude: names of routes to leave out (`list create get update delete restore`).
        parent_param: for a child collection, the prefix's path parameter holding the parent
            id; inferred when the prefix has exactly one.
        route_dependencies: extra dependencies per route name, e.g. a stricter scope.
        decorate: a decorator per route name, applied to the endpoint (e.g. `cache(...)`).
        name: the prefix of operation ids (`todos_list`; a custom route `archive` on the
            router is `todos_archive`); the model's table name by default.
    """

    def __init__(
        self,
        controller: type[BaseController[Any, Any, Any, Any]],
        read_schema: type[BaseModel],
        *,
        prefix: str,
        exclude: Collection[str] = (),
        parent_param: str | None = None,
        route_dependencies: Mapping[str, Sequence[DependsParam]] | None = None,
        decorate: Mapping[str, Decorator] | None = None,
        name: str | None = None,
        tags: list[str | Enum] | None = None,
        **router_options: Any,
    ) -> None:
        self.basename = name or str(controller.model.__tablename__)
        router_options.setdefault("generate_unique_id_function", operation_ids(self.basename))
        super().__init__(prefix=prefix, tags=tags, **router_options)
        self.controller = controller
        self.read_schema = read_schema
        self.parent_param = _parent_param(controller, prefix, parent_param)
        self.item_param = f"{_snake(controller.model.__name__)}_id"
        self._plain_rows = _reads_plain_rows(controller, read_schema)
        self._route_dependencies = route_dependencies or {}
        self._decorate = decorate or {}
        self._generated: list[APIRoute] = []
        for route in self._route_names(exclude):
            self._generate(route)
        if "files" not in exclude:
            self._generate_file_routes()

    def _route_names(self, exclude: Collection[str]) -> list[str]:
        unknown = set(exclude) - {*ROUTES, "files"}
        if unknown:
            raise ValueError(f"unknown routes in exclude: {sorted(unknown)}")
        names = [n for n in ROUTES if n not in exclude]
        nested = self.controller.parent is not None or self.controller.tenant is not None
        flat_child = nested and self.parent_param is None
        if flat_child and set(names) & set(COLLECTION_ROUTES):
            raise ValueError(
                f"CrudRouter({self.controller.__name__}, prefix={self.prefix!r}): a child's "
                "list and create need its parent in the path (prefix='/parents/{parent_id}/…'), "
                'or exclude=["list", "create"]'
            )
        soft = types_of(self.controller).repository.soft_deletes()
        return [n for n in names if n != "restore" or soft]

    # -- custom routes beside the generated ones ------------------------------------------------

    def add_api_route(self, path: str, endpoint: Endpoint, **kwargs: Any) -> None:
        """Add a route; a custom one goes before the generated routes and replaces a generated
        route with the same method and path."""
        super().add_api_route(path, endpoint, **kwargs)
        if not self._generating:
            self._place_custom_route()

    _generating = False

    def _place_custom_route(self) -> None:
        route = self.routes.pop()
        assert isinstance(route, APIRoute)
        for generated in list(self._generated):
            if generated.path == route.path and (generated.methods or set()) & (
                route.methods or set()
            ):
                self.routes.remove(generated)
                self._generated.remove(generated)
        first = min((self.routes.index(r) for r in self._generated), default=len(self.routes))
        self.routes.insert(first, route)

    # -- generation -----------------------------------------------------------------------------

    def _summary(self, route: str) -> str:
        """ "List todos" for the collection, "Get todo" (singular) for one item."""
        if route == "list":
            return f"List {self.basename.replace('_', ' ')}"
        return f"{route.capitalize()} {_snake(self.controller.model.__name__).replace('_', ' ')}"

    def _generate(self, route: str) -> None:
        spec: _Route = getattr(self, f"_{route}")()
        if route in READ_ROUTES:
            read_only(spec.endpoint)  # before a decorator wraps it: `functools.wraps` copies it
        decorator = self._decorate.get(route)
        endpoint = decorator(spec.endpoint) if decorator else spec.endpoint
        self._generating = True
        try:
            self.add_api_route(
                spec.path,
                endpoint,
                methods=[spec.method],
                status_code=spec.status_code,
                response_model=spec.response_model,
                responses=problem_responses(*spec.errors),
                dependencies=list(self._route_dependencies.get(route, ())),
                name=f"{self.basename}_{route}",
                operation_id=f"{self.basename}_{route}",
                summary=self._summary(route),
            )
        finally:
            self._generating = False
        generated = self.routes[-1]
        assert isinstance(generated, APIRoute)
        self._generated.append(generated)

    def _generate_file_routes(self) -> None:
        """`PUT`, `GET` and `DELETE {item}/files/{name}` for each `file_field` of the model."""
        for name, column in file_fields(self.controller.model).items():
            calls = file_field_calls(column)
            path = f"{self._item_path()}/files/{name}"
            noun = f"{_snake(self.controller.model.__name__).replace('_', ' ')}'s {name}"
            attach = self._params(item=True, data=FileAttach) + FILE_ROUTE_PARAMS
            routes = (
                ("attach", "PUT", attach, 200, FileRead, (403, 404, 409), "Attach"),
                (
                    "download",
                    "GET",
                    self._params(item=True) + FILE_ROUTE_PARAMS,
                    200,
                    FileDownload,
                    (404,),
                    "Download",
                ),
                (
                    "detach",
                    "DELETE",
                    self._params(item=True) + FILE_ROUTE_PARAMS,
                    204,
                    None,
                    (403, 404),
                    "Remove",
                ),
            )
            for verb, method, params, code, model, errors, summary in routes:
                endpoint = self._endpoint(calls[verb], params)
                if verb == "download":
                    read_only(endpoint)
                route_name = f"{self.basename}_{verb}_{name}"
                self._generating = True
                try:
                    self.add_api_route(
                        path,
                        endpoint,
                        methods=[method],
                        status_code=code,
                        response_model=model,
                        responses=problem_responses(*self._errors(*errors)),
                        name=route_name,
                        operation_id=route_name,
                        summary=f"{summary} the {noun}",
                    )
                finally:
                    self._generating = False
                generated = self.routes[-1]
                assert isinstance(generated, APIRoute)
                self._generated.append(generated)

    def _params(self, *, item: bool, data: Any = None) -> list[inspect.Parameter]:
        """The endpoint's parameters: the parent id, the item id, the body, the controller."""
        params = [_param(self.parent_param, uuid.UUID)] if self.parent_param else []
        if item:
            params.append(_param(self.item_param, uuid.UUID))
        if data is not None:
            params.append(_param("data", data))
        controller = self.controller
        params.append(_param("controller", Annotated[controller, Depends(provide(controller))]))
        return params

    def _endpoint(self, call: Callable[..., Any], params: list[inspect.Parameter]) -> Endpoint:
        """An endpoint with the signature `params` that calls `call(controller, data?, …)` with
        the item id as `id_` and the parent id as `parent_id` (when the path has them)."""
        parent, item = self.parent_param, self.item_param

        async def endpoint(**kwargs: Any) -> Any:
            if parent:
                kwargs["parent_id"] = kwargs.pop(parent)
            if item in kwargs:
                kwargs["id_"] = kwargs.pop(item)
            return await call(**kwargs)

        endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return endpoint

    def _item_path(self) -> str:
        return "/{" + self.item_param + "}"

    def _errors(self, *errors: int) -> tuple[int, ...]:
        """`errors`, with 404 for an unknown parent when the routes sit under one, and 403 for
        a role too low in a tenant-scoped controller's organization."""
        extra = {404} if self.parent_param else set()
        if self.controller.tenant is not None:
            extra |= {403, 404}
        return tuple(sorted({*errors, *extra}))

    def _list(self) -> _Route:
        ctl, rows = self.controller, self._plain_rows
        params = self._params(item=False)
        if ctl.filterset is not None:
            params.insert(-1, _param("filters", Annotated[ctl.filterset, Query()]))
        paging = Depends(ctl.pagination.dependency(ctl.model))
        params.insert(-1, _param("page", Annotated[PageParams, paging]))

        async def call(controller: Any, page: PageParams, **kw: Any) -> Any:
            return await controller.list(page, rows=rows, **kw)

        page_model = ctl.pagination.page_model(self.read_schema)
        return _Route(
            self._endpoint(call, params), "", "GET", 200, page_model, self._errors(400, 422)
        )

    def _create(self) -> _Route:
        params = self._params(item=False, data=types_of(self.controller).create_schema)

        async def call(controller: Any, data: BaseModel, **kw: Any) -> Any:
            return await controller.create(data, **kw)

        errors = self._errors(409, 422)
        return _Route(self._endpoint(call, params), "", "POST", 201, self.read_schema, errors)

    def _get(self) -> _Route:
        async def call(controller: Any, **kw: Any) -> Any:
            return await controller.get(**kw)

        endpoint = self._endpoint(call, self._params(item=True))
        return _Route(endpoint, self._item_path(), "GET", 200, self.read_schema, self._errors(404))

    def _update(self) -> _Route:
        params = self._params(item=True, data=types_of(self.controller).update_schema)

        async def call(controller: Any, data: BaseModel, **kw: Any) -> Any:
            return await controller.update(data=data, **kw)

        endpoint = self._endpoint(call, params)
        errors = (403, 404, 409, 422)
        return _Route(endpoint, self._item_path(), "PATCH", 200, self.read_schema, errors)

    def _delete(self) -> _Route:
        async def call(controller: Any, **kw: Any) -> None:
            await controller.delete(**kw)

        endpoint = self._endpoint(call, self._params(item=True))
        return _Route(
            endpoint, self._item_path(), "DELETE", status.HTTP_204_NO_CONTENT, None, (403, 404)
        )

    def _restore(self) -> _Route:
        async def call(controller: Any, **kw: Any) -> Any:
            return await controller.restore(**kw)

        path = self._item_path() + "/restore"
        endpoint = self._endpoint(call, self._params(item=True))
        return _Route(endpoint, path, "POST", 200, self.read_schema, (403, 404, 409))
