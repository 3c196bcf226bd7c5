"""`CrudRouter`: the HTTP routes of a controller, generated.

    router = CrudRouter(TodoController, TodoRead, prefix="/todos")

gives, each with its response schema, status code and documented errors:

| route                        | calls                          | answers |
|------------------------------|--------------------------------|---------|
| `GET    /todos`              | `list` (or `list_after`)       | 200 page |
| `POST   /todos`              | `create`                       | 201 |
| `GET    /todos/{todo_id}`    | `get`                          | 200 |
| `PATCH  /todos/{todo_id}`    | `update`                       | 200 |
| `DELETE /todos/{todo_id}`    | `delete` (soft)                | 204 |
| `POST   /todos/{todo_id}/restore` | `restore` (soft-deleting models) | 200 |

The list takes the controller's `filterset` as query parameters, `?sort=` from `sort_fields`
(offset pages) and `limit` with `offset` or `cursor`, as the controller's `pagination` says.

Leave routes out with `exclude=("delete",)`. Add custom routes to the same router as usual
(`@router.post("/{todo_id}/archive")`): they are matched before the generated ones, and a
custom route with the method and path of a generated one replaces it. A child collection
(`Parent`) gets its collection routes under its parent with `parent_param`:

    CrudRouter(MessageController, MessageRead, prefix="/threads/{thread_id}/messages",
               parent_param="thread_id")   # GET (list_after(parent_id=…)) and POST (create_in)

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

from core.controller import BaseController
from core.deps import provide
from core.filtering import sort_param
from core.openapi import operation_ids, problem_responses
from core.pagination import (
    CursorPage,
    CursorParams,
    OffsetPage,
    OffsetParams,
    cursor_params,
    offset_params,
)
from core.routing import read_only

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


class CrudRouter(APIRouter):
    """An `APIRouter` with the CRUD routes of `controller`, answering with `read_schema`.

    Args:
        controller: the `BaseController` subclass the routes call.
        read_schema: what every route returns (one row, or the items of a page).
        prefix, tags, dependencies, …: as for `APIRouter`.
        exclude: names of routes to leave out (`list create get update delete restore`).
        parent_param: for a child collection, the path parameter holding the parent id;
            only the collection routes (list, create) are generated then.
        route_dependencies: extra dependencies per route name, e.g. a stricter scope.
        decorate: a decorator per route name, applied to the endpoint (e.g. `cache(...)`).
        name: the prefix of operation ids (`todos_list`; a custom route `archive` on the
            router is `todos_archive`); the model's table name by default.
    """

    def __init__(
        self,
        controller: type[BaseController[Any, Any, Any]],
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
        self.parent_param = parent_param
        self.item_param = f"{_snake(controller.model.__name__)}_id"
        self._plain_rows = controller.reads_plain_rows(read_schema)
        self._route_dependencies = route_dependencies or {}
        self._decorate = decorate or {}
        self._generated: list[APIRoute] = []
        unknown = set(exclude) - set(ROUTES)
        if unknown:
            raise ValueError(f"unknown routes in exclude: {sorted(unknown)}")
        for route in self._route_names(exclude):
            self._generate(route)

    def _route_names(self, exclude: Collection[str]) -> list[str]:
        names = COLLECTION_ROUTES if self.parent_param else ROUTES
        soft = self.controller.repository_class.soft_deletes()
        return [n for n in names if n not in exclude and (n != "restore" or soft)]

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

    def _generate(self, route: str) -> None:
        spec: _Route = getattr(self, f"_{route}")()
        if route in READ_ROUTES:
            read_only(spec.endpoint)  # before a decorator wraps it: `functools.wraps` copies it
        decorator = self._decorate.get(route)
        endpoint = decorator(spec.endpoint) if decorator else spec.endpoint
        noun = self.basename.replace("_", " ")
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
                summary=f"{route.capitalize()} {noun}",
            )
        finally:
            self._generating = False
        generated = self.routes[-1]
        assert isinstance(generated, APIRoute)
        self._generated.append(generated)

    def _controller_param(self) -> inspect.Parameter:
        controller = self.controller
        return _param("controller", Annotated[controller, Depends(provide(controller))])

    def _path_params(self, *, item: bool) -> list[inspect.Parameter]:
        if item:
            return [_param(self.item_param, uuid.UUID)]
        return [_param(self.parent_param, uuid.UUID)] if self.parent_param else []

    def _endpoint(self, call: Callable[..., Any], params: list[inspect.Parameter]) -> Endpoint:
        async def endpoint(**kwargs: Any) -> Any:
            return await call(**kwargs)

        endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return endpoint

    def _item_path(self) -> str:
        return "/{" + self.item_param + "}"

    def _list(self) -> _Route:
        ctl = self.controller
        params = [self._controller_param(), *self._path_params(item=False)]
        if ctl.filterset is not None:
            params.append(_param("filters", Annotated[ctl.filterset, Query()]))
        page_model: Any
        if ctl.pagination == "cursor":
            params.append(_param("page", Annotated[CursorParams, Depends(cursor_params)]))
            page_model, call = CursorPage[self.read_schema], self._list_after_call()  # type: ignore[name-defined]
        else:
            sort = Depends(sort_param(ctl.sort_fields, ctl.default_sort))
            params.append(_param("page", Annotated[OffsetParams, Depends(offset_params)]))
            params.append(_param("sort", Annotated[str, sort]))
            page_model, call = OffsetPage[self.read_schema], self._list_call()  # type: ignore[name-defined]
        errors = (400, 404, 422) if self.parent_param else (400, 422)
        return _Route(self._endpoint(call, params), "", "GET", 200, page_model, errors)

    def _list_after_call(self) -> Callable[..., Any]:
        parent, rows = self.parent_param, self._plain_rows

        async def call(controller: Any, page: CursorParams, **kw: Any) -> Any:
            parent_id = kw[parent] if parent else None
            filters = kw.get("filters")
            return await controller.list_after(
                filters=filters,
                cursor=page.cursor,
                limit=page.limit,
                parent_id=parent_id,
                rows=rows,
            )

        return call

    def _list_call(self) -> Callable[..., Any]:
        parent, rows = self.parent_param, self._plain_rows

        async def call(controller: Any, page: OffsetParams, sort: str, **kw: Any) -> Any:
            parent_id = kw[parent] if parent else None
            return await controller.list(
                filters=kw.get("filters"),
                sort=sort,
                limit=page.limit,
                offset=page.offset,
                parent_id=parent_id,
                rows=rows,
            )

        return call

    def _create(self) -> _Route:
        ctl = self.controller
        params = [
            *self._path_params(item=False),
            _param("data", ctl.create_schema),
            self._controller_param(),
        ]
        parent = self.parent_param

        async def call(controller: Any, data: BaseModel, **kw: Any) -> Any:
            if parent:
                return await controller.create_in(kw[parent], data)
            return await controller.create(data)

        errors = (404, 409, 422) if parent else (409, 422)
        return _Route(self._endpoint(call, params), "", "POST", 201, self.read_schema, errors)

    def _get(self) -> _Route:
        item = self.item_param
        params = [*self._path_params(item=True), self._controller_param()]

        async def call(controller: Any, **kw: Any) -> Any:
            return await controller.get(kw[item])

        endpoint = self._endpoint(call, params)
        return _Route(endpoint, self._item_path(), "GET", 200, self.read_schema, (404,))

    def _update(self) -> _Route:
        item = self.item_param
        params = [
            *self._path_params(item=True),
            _param("data", self.controller.update_schema),
            self._controller_param(),
        ]

        async def call(controller: Any, data: BaseModel, **kw: Any) -> Any:
            return await controller.update(kw[item], data)

        endpoint = self._endpoint(call, params)
        errors = (403, 404, 409, 422)
        return _Route(endpoint, self._item_path(), "PATCH", 200, self.read_schema, errors)

    def _delete(self) -> _Route:
        item = self.item_param
        params = [*self._path_params(item=True), self._controller_param()]

        async def call(controller: Any, **kw: Any) -> None:
            await controller.delete(kw[item])

        endpoint = self._endpoint(call, params)
        return _Route(
            endpoint, self._item_path(), "DELETE", status.HTTP_204_NO_CONTENT, None, (403, 404)
        )

    def _restore(self) -> _Route:
        item = self.item_param
        params = [*self._path_params(item=True), self._controller_param()]

        async def call(controller: Any, **kw: Any) -> Any:
            return await controller.restore(kw[item])

        path = self._item_path() + "/restore"
        endpoint = self._endpoint(call, params)
        return _Route(endpoint, path, "POST", 200, self.read_schema, (403, 404, 409))
