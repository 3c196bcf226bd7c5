"""`BaseController[Model, Create, Update]`: the generic CRUD behaviour of one entity.

    class TodoController(BaseController[Todo, TodoCreate, TodoUpdate]):
        owner_field = "owner_id"
        sort_fields = {"title": Todo.title, "created_at": Todo.created_at}

Configure with class attributes; change behaviour in the small override points:

- `scope(stmt, action)` — which rows this caller may see at all (lists and single reads alike).
- `check_object(obj, action)` — may this caller do `action` to this visible row?
- `perform_create / perform_update / perform_delete` — how the write is done.
- `perform_create_in(parent, data)` — how a child is created inside its (locked) parent.
- `written(action, obj)` — after each write, with the row as reads return it (events, audit).
- `annotate(rows)` — per-caller values that are not columns, for a whole page in one query.

Controllers never commit: the request's unit of work does (`core.service`).
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel
from sqlalchemy import Select, and_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.base import ExecutableOption

from core.db import Entity
from core.errors import InvalidInput, field_error
from core.filtering import FilterSet, parse_sort
from core.pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_binding
from core.repository import BaseRepository, CursorResult, OffsetResult
from core.service import RequestBound

ModelT = TypeVar("ModelT", bound=Entity)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)
Pagination = Literal["offset", "cursor"]


class Action(StrEnum):
    """What a caller wants to do; passed to `scope` and `check_object`."""

    LIST = "list"
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"


@dataclass(frozen=True)
class Parent:
    """Declares a child collection: rows of this controller belong to a row of `controller`.

    `field` is the child's foreign key. Children are visible exactly when their parent is;
    `create_in` and `list(parent_id=…)` look the parent up first (404 when the caller cannot
    see it; see `reads_by_scope` for lists). With `lock_on_create`, creating a child locks the
    parent row first, so concurrent children of one parent update it in order.
    """

    controller: type["BaseController[Any, Any, Any]"]
    field: str
    lock_on_create: bool = False
    reads_by_scope: bool = False
    """List children in one statement: the page filters by the parent's `scope` itself, and
    the parent is looked up only when the page comes back empty (to tell an unknown parent,
    404, from an empty page). Set it when the parent controller's `check_object` allows every
    read of a row its `scope` lets through; by default the parent is read first (its `get`,
    `check_object` included), then its children."""


class BaseController(RequestBound, Generic[ModelT, CreateT, UpdateT]):
    """CRUD over one model for one caller, in the request's unit of work.

    The model and the Create/Update schemas come from the generic arguments; the repository is
    a plain `BaseRepository` of the model unless `repository_class` names one.
    """

    model: ClassVar[type[Any]]
    """The model (from the first generic argument)."""
    create_schema: ClassVar[type[BaseModel]]
    """The Create schema (from the second generic argument)."""
    update_schema: ClassVar[type[BaseModel]]
    """The Update schema (from the third generic argument)."""
    repository_class: ClassVar[type[BaseRepository[Any]]]
    """The repository of the model; a plain `BaseRepository` when not set."""
    read_options: ClassVar[Sequence[ExecutableOption]] = ()
    """Eager loads applied to every read (e.g. `selectinload(Thread.participants)`)."""
    owner_field: ClassVar[str | None] = None
    """A column holding the owner's user id: set to the caller on create, and the caller sees
    only their own rows (others' answer 404)."""
    created_by_field: ClassVar[str | None] = None
    """A column set to the caller's id on create, without limiting who sees the row."""
    parent: ClassVar[Parent | None] = None
    """Makes this a child collection of another controller's rows (see `Parent`)."""
    filterset: ClassVar[type[FilterSet] | None] = None
    """The query filters lists accept (the CRUD router exposes them as query parameters)."""
    sort_fields: ClassVar[Mapping[str, Any]] = {}
    """Allowlist for `?sort=`: public name → column. `id` is always appended as tie-breaker."""
    default_sort: ClassVar[str] = "-created_at"
    """The order of offset pages when the client sends no `?sort=`."""
    pagination: ClassVar[Pagination] = "offset"
    """How lists page: numbered pages with a total, or keyset cursors (the repository's key)."""
    max_limit: ClassVar[int] = MAX_LIMIT
    """The largest page a client may ask for."""
    create_with_insert: ClassVar[bool] = False
    """Create rows with one Core `INSERT` (`BaseRepository.insert`) instead of a unit-of-work
    flush: much cheaper, but the new row is not in the session. Set it for rows that are
    created and returned as they are (messages, events), not for rows the same request keeps
    changing through their attributes or that `read_options` reload."""

    repository: BaseRepository[ModelT]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            origin, args = get_origin(base), get_args(base)
            concrete = bool(args) and all(isinstance(arg, type) for arg in args)
            if isinstance(origin, type) and issubclass(origin, BaseController) and concrete:
                cls.model, cls.create_schema, cls.update_schema = args
        declared = getattr(cls, "repository_class", None)
        if "model" in cls.__dict__ and (declared is None or declared.model is not cls.model):
            cls.repository_class = type(
                f"{cls.model.__name__}Repository", (BaseRepository,), {"model": cls.model}
            )
        if "model" in cls.__dict__ and not cls.sort_fields:
            cls.sort_fields = {"created_at": cls.model.created_at}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.repository = self.repository_class(self.session)
        self._page_parent: uuid.UUID | None = None

    # -- override points ----------------------------------------------------------------------

    def scope(self, stmt: Select[ModelT], action: Action) -> Select[ModelT]:
        """Narrow `stmt` to the rows the caller may `action`; rows outside answer 404 exactly
        like rows that do not exist. Default: own rows (`owner_field`) of visible parents
        (`parent`). Override for other row-level visibility, calling `super()` to keep those."""
        if self.owner_field is not None:
            stmt = stmt.where(self._column(self.owner_field) == self.me.id)
        if self.parent is not None:
            stmt = stmt.where(self._visible_parents())
        return stmt

    def _visible_parents(self) -> Any:
        assert self.parent is not None
        column = self._column(self.parent.field)
        page_parent = self._page_parent
        if page_parent is not None and not self.parent.reads_by_scope:
            return column == page_parent  # one parent, fetched through its scope just now
        visible = self.parent_controller.query(action=Action.READ)
        parent_id = self.parent_controller.model.__table__.c.id
        if page_parent is not None:  # one parent, checked in the same statement
            return and_(column == page_parent, visible.where(parent_id == page_parent).exists())
        return column.in_(visible.with_only_columns(parent_id))

    async def check_object(self, obj: ModelT, action: Action) -> None:
        """Raise `Forbidden` (or `NotFound`) if the caller may not do `action` to `obj`.
        Override for object permissions; lists are never checked here — use `scope`."""

    async def perform_create(self, data: CreateT, **values: Any) -> ModelT:
        """Build and insert the row from `data` plus server-set `values` (never from the
        client), with the owner/creator set to the caller. Override for derived fields."""
        for name in (self.owner_field, self.created_by_field):
            if name is not None:
                values.setdefault(name, self.me.id)
        obj = self.model(**data.model_dump(), **values)
        if self.create_with_insert:
            return await self.repository.insert(obj)
        return await self.repository.add(obj)

    async def perform_create_in(self, parent: Any, data: CreateT, **values: Any) -> ModelT:
        """Create a child of `parent` (already visible, and locked with `lock_on_create`).
        Override to update the parent as well (e.g. its latest activity)."""
        assert self.parent is not None
        return await self.perform_create(data, **{self.parent.field: parent.id}, **values)

    async def perform_update(self, obj: ModelT, data: UpdateT) -> ModelT:
        """Apply only the fields the client sent. Override for derived fields."""
        values = data.model_dump(exclude_unset=True)
        self._refuse_nulls_for_required_columns(values)
        return await self.repository.update(obj, values)

    async def written(self, action: Action, obj: ModelT) -> None:
        """Called after every `create`, `create_in`, `update`, `delete` and `restore` with the
        row as reads return it. Override to record an outbox or audit row in the same
        transaction and schedule its side effect with `self.after_commit(...)`."""

    async def annotate(self, rows: Sequence[ModelT]) -> None:
        """Attach per-caller values that are not columns (e.g. unread counts) to rows about to
        be returned — every page, read and write — in one query for all of them."""

    async def perform_delete(self, obj: ModelT) -> None:
        """Soft-delete the row (hard-delete a model without soft delete). Override to cascade."""
        if self.repository.soft_deletes():
            await self.repository.soft_delete(obj)
        else:
            await self.repository.hard_delete(obj)

    # -- queries ------------------------------------------------------------------------------

    @property
    def parent_controller(self) -> "BaseController[Any, Any, Any]":
        """The controller of the parent rows (see `parent`)."""
        if self.parent is None:
            raise TypeError(f"{type(self).__name__} declares no parent")
        return self.controller(self.parent.controller)

    @classmethod
    def reads_plain_rows(cls, schema: type[BaseModel]) -> bool:
        """Whether pages answered with `schema` can skip the ORM (`list(rows=True)`): every
        field of `schema` is a column of the model, no `read_options` load related rows and
        `annotate` is not overridden. The CRUD router asks once and then reads pages as rows,
        which costs a fraction of building entities for them."""
        columns = set(cls.model.__table__.columns.keys())
        return (
            not cls.read_options
            and cls.annotate is BaseController.annotate
            and set(schema.model_fields) <= columns
        )

    async def get_parent(self, parent_id: uuid.UUID, *, for_update: bool = False) -> Any:
        """The parent row the caller can see (404 otherwise), without its read options."""
        return await self.parent_controller.get(parent_id, for_update=for_update, options=())

    def query(
        self,
        filters: FilterSet | None = None,
        *,
        action: Action = Action.LIST,
        include_deleted: bool = False,
    ) -> Select[ModelT]:
        """The visible rows, filtered: the base of every list."""
        include_deleted = include_deleted or (filters is not None and filters.includes_deleted())
        stmt = self.scope(self.repository.select(include_deleted=include_deleted), action)
        return filters.apply(stmt) if filters is not None else stmt

    async def _children_of(
        self, parent_id: uuid.UUID | None, filters: FilterSet | None
    ) -> Select[ModelT]:
        if parent_id is None:
            return self.query(filters)
        assert self.parent is not None, f"{type(self).__name__} declares no parent"
        if not self.parent.reads_by_scope:
            # Read through its controller's scope now: the children's scope needs
            # `parent_field == id`, not the subquery of every visible parent again.
            await self.get_parent(parent_id)
        self._page_parent = parent_id  # with `reads_by_scope`: `_confirm_parent` after the page
        try:
            return self.query(filters)
        finally:
            self._page_parent = None

    async def _confirm_parent(self, parent_id: uuid.UUID | None, items: Sequence[Any]) -> None:
        """An empty page of a parent checked in the page's own statement (`reads_by_scope`):
        404 unless the caller can see the parent."""
        if parent_id is not None and not items and self.parent and self.parent.reads_by_scope:
            await self.get_parent(parent_id)

    def _check_limit(self, limit: int) -> None:
        if not 1 <= limit <= self.max_limit:
            raise InvalidInput(
                errors=[field_error(["query", "limit"], f"Must be between 1 and {self.max_limit}.")]
            )

    async def get(
        self,
        id_: uuid.UUID,
        *,
        action: Action = Action.READ,
        for_update: bool = False,
        include_deleted: bool = False,
        options: Sequence[ExecutableOption] | None = None,
    ) -> ModelT:
        """One visible row the caller may `action`; 404 if missing or out of scope.

        `options` replaces `read_options` for this call (`()` reads the row alone)."""
        model = self.repository.model
        stmt = self.scope(self.repository.by_id(id_, include_deleted=include_deleted), action)
        stmt = stmt.options(*(self.read_options if options is None else options))
        if for_update:
            stmt = stmt.with_for_update(of=model)
        obj = await self.repository.one(stmt)
        await self.check_object(obj, action)
        if options is None:
            await self.annotate([obj])
        return obj

    async def reload(self, obj: ModelT) -> ModelT:
        """`obj` read again with `read_options`, as reads return it (after its related rows
        changed in this unit of work)."""
        stmt = self.repository.by_id(obj.id, include_deleted=True).options(*self.read_options)
        fresh = await self.repository.one(stmt.execution_options(populate_existing=True))
        await self.annotate([fresh])
        return fresh

    async def list(
        self,
        *,
        filters: FilterSet | None = None,
        sort: str | None = None,
        limit: int = DEFAULT_LIMIT,
        offset: int = 0,
        parent_id: uuid.UUID | None = None,
        rows: bool = False,
    ) -> OffsetResult[ModelT]:
        """A numbered page of visible rows in an allowlisted order, with the total; with
        `parent_id`, of that parent's children (404 if the caller cannot see the parent).
        `rows=True` reads plain dicts of columns instead of entities (`reads_plain_rows`)."""
        self._check_limit(limit)
        order = [*parse_sort(sort, self.sort_fields, self.default_sort), self.repository.model.id]
        stmt = (await self._children_of(parent_id, filters)).order_by(*order)
        page = await self.repository.page_offset(
            stmt, limit=limit, offset=offset, options=self.read_options, rows=rows
        )
        await self._confirm_parent(parent_id, page.items)
        if not rows:
            await self.annotate(page.items)
        return page

    async def list_after(
        self,
        *,
        filters: FilterSet | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
        descending: bool = True,
        parent_id: uuid.UUID | None = None,
        rows: bool = False,
    ) -> CursorResult[ModelT]:
        """A keyset page of visible rows in the repository's fixed key order; with
        `parent_id`, of that parent's children (404 if the caller cannot see the parent).
        `rows=True` reads plain dicts of columns instead of entities (`reads_plain_rows`)."""
        self._check_limit(limit)
        page = await self.repository.page_keyset(
            await self._children_of(parent_id, filters),
            limit=limit,
            cursor=cursor,
            descending=descending,
            options=self.read_options,
            rows=rows,
            binding=self._cursor_binding(parent_id, filters),
        )
        await self._confirm_parent(parent_id, page.items)
        if not rows:
            await self.annotate(page.items)
        return page

    @classmethod
    def _cursor_binding(cls, parent_id: uuid.UUID | None, filters: FilterSet | None) -> str:
        """The list a cursor of `list_after` belongs to: this controller, the parent, the
        filters (a cursor used on another list or with other filters is a 400)."""
        name = f"{cls.__module__}.{cls.__qualname__}"
        return cursor_binding(name, parent_id=parent_id, filters=filters)

    # -- writes -------------------------------------------------------------------------------

    async def create(self, data: CreateT, **values: Any) -> ModelT:
        """Create a row from validated input plus server-set `values`; returned as reads
        return it."""
        obj = await self._as_read(await self.perform_create(data, **values))
        await self.written(Action.CREATE, obj)
        return obj

    async def create_in(self, parent_id: uuid.UUID, data: CreateT, **values: Any) -> ModelT:
        """Create a child of the parent `parent_id` (404 if the caller cannot see it)."""
        assert self.parent is not None, f"{type(self).__name__} declares no parent"
        parent = await self.get_parent(parent_id, for_update=self.parent.lock_on_create)
        obj = await self._as_read(await self.perform_create_in(parent, data, **values))
        await self.written(Action.CREATE, obj)
        return obj

    async def update(self, id_: uuid.UUID, data: UpdateT) -> ModelT:
        """Partially update a visible row the caller may update."""
        obj = await self.get(id_, action=Action.UPDATE, for_update=True)
        obj = await self.perform_update(obj, data)
        await self.written(Action.UPDATE, obj)
        return obj

    async def delete(self, id_: uuid.UUID) -> None:
        """Delete (soft, where the model has it) a visible row the caller may delete."""
        obj = await self.get(id_, action=Action.DELETE, for_update=True)
        await self.perform_delete(obj)
        await self.written(Action.DELETE, obj)

    async def restore(self, id_: uuid.UUID) -> ModelT:
        """Bring back a soft-deleted row the caller may restore."""
        obj = await self.get(id_, action=Action.RESTORE, for_update=True, include_deleted=True)
        obj = await self.repository.restore(obj)
        await self.written(Action.RESTORE, obj)
        return obj

    # -- helpers ------------------------------------------------------------------------------

    def _column(self, name: str) -> InstrumentedAttribute[Any]:
        column: InstrumentedAttribute[Any] = getattr(self.model, name)
        return column

    async def _as_read(self, obj: ModelT) -> ModelT:
        return await self.reload(obj) if self.read_options else obj

    def _refuse_nulls_for_required_columns(self, values: Mapping[str, Any]) -> None:
        """An explicit `null` for a NOT NULL column is the client's mistake: 422, not 409."""
        columns = self.model.__table__.columns
        errors = [
            field_error(["body", name], "This field may be omitted but not null.", "null_value")
            for name, value in values.items()
            if value is None and name in columns and not columns[name].nullable
        ]
        if errors:
            raise InvalidInput("Some fields may not be null.", errors=errors)
