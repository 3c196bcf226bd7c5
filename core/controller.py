"""`BaseController[Model, Create, Update]`: the generic CRUD behaviour of one entity.

    class TodoController(BaseController[Todo, TodoCreate, TodoUpdate]):
        owner = Owner("owner_id")
        pagination = OffsetPagination(sort={"title": Todo.title, "created_at": Todo.created_at})

A fourth generic argument names the repository, so `self.repository` has its type:
`BaseController[Thread, ThreadCreate, ThreadUpdate, ThreadRepository]`.

Configure with class attributes (`owner`, `parent`, `tenant`, `audit`, `filterset`,
`pagination`); change behaviour in the small override points:

- `visible(stmt, action)` — which rows this caller may see at all (lists and single reads alike).
- `check_object(obj, action)` — may this caller do `action` to this visible row?
- `perform_create / perform_update / perform_delete` — how the write is done.
- `written(action, obj)` — after each write, with the row as reads return it (events, audit).
- `annotate(rows)` — per-caller values that are not columns, for a whole page in one query.

After a custom write, `as_read(obj)` returns the row as reads do (reloaded, annotated).

Controllers never commit: the request's unit of work does (`core.service`).
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar, cast, get_args, get_origin, overload

from pydantic import BaseModel
from sqlalchemy import Select, and_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.base import ExecutableOption
from typing_extensions import TypeVar as DefaultTypeVar

from core.audit import Audit, add_entry
from core.columns import integer_bound
from core.db import Entity
from core.errors import InvalidInput, field_error
from core.filtering import FilterSet
from core.pagination import (
    CursorParams,
    OffsetPagination,
    OffsetParams,
    PageParams,
    Pagination,
    cursor_binding,
)
from core.repository import BaseRepository, CursorResult, OffsetResult
from core.security import Principal
from core.service import SessionBound
from core.tenancy import Tenant

ModelT = TypeVar("ModelT", bound=Entity)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)
RepositoryT = DefaultTypeVar(
    "RepositoryT", bound=BaseRepository[Any], default=BaseRepository[ModelT]
)
ControllerT = TypeVar("ControllerT", bound="BaseController[Any, Any, Any, Any]")


class Action(StrEnum):
    """What a caller wants to do; passed to `visible` and `check_object`."""

    LIST = "list"
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"


@dataclass(frozen=True)
class Owner:
    """The column holding the user a row belongs to: set to the caller on create. A `private`
    owner (the default) also narrows every list, read and write to the caller's own rows —
    others' rows answer 404; `private=False` only records who made the row (an author)."""

    field: str
    private: bool = True


@dataclass(frozen=True)
class Parent:
    """Declares a child collection: rows of this controller belong to a row of `controller`.

    `field` is the child's foreign key. Children are visible exactly when their parent is;
    `create(parent_id=…)` and `list(parent_id=…)` look the parent up first (404 when the caller
    cannot see it; see `reads_by_visibility` for lists), and `get/update/delete/restore` with
    `parent_id` answer 404 for a child of another parent. With `lock_on_create`, creating a
    child locks the parent row first, so concurrent children of one parent update it in order.
    """

    controller: type["BaseController[Any, Any, Any, Any]"]
    field: str
    lock_on_create: bool = False
    reads_by_visibility: bool = False
    """List children in one statement: the page filters by the parent's `visible` itself, and
    the parent is looked up only when the page comes back empty (to tell an unknown parent,
    404, from an empty page). Set it when the parent controller's `check_object` allows every
    read of a row its `visible` lets through; by default the parent is read first (its `get`,
    `check_object` included), then its children."""


class ControllerTypes(NamedTuple):
    """A controller class's generic arguments, resolved (see `types_of`)."""

    model: type[Any]
    create_schema: type[BaseModel]
    update_schema: type[BaseModel]
    repository: type[BaseRepository[Any]]


def types_of(controller: type["BaseController[Any, Any, Any, Any]"]) -> ControllerTypes:
    """The model, Create and Update schemas and repository class of `controller`: what the
    CRUD router builds its routes from."""
    return controller._types


def _repository_for(model: type[Any], declared: Any) -> type[BaseRepository[Any]]:
    if not (isinstance(declared, type) and issubclass(declared, BaseRepository)):
        return type(f"{model.__name__}Repository", (BaseRepository,), {"model": model})
    if declared.model is not model:
        raise TypeError(f"{declared.__name__} is a repository of {declared.model.__name__}")
    return declared


RETIRED_ATTRIBUTES = {
    "owner_field": 'owner = Owner("owner_id")',
    "created_by_field": 'owner = Owner("author_id", private=False)',
    "sort_fields": "pagination = OffsetPagination(sort={...})",
    "default_sort": 'pagination = OffsetPagination(default_sort="-created_at")',
    "max_limit": "pagination = OffsetPagination(max_limit=...) or CursorPagination(max_limit=...)",
    "repository_class": "BaseController[Model, Create, Update, YourRepository]",
    "read_options": "load_options on the repository",
    "create_with_insert": "create_with_insert on the repository",
    "scope": "visible(stmt, action)",
    "perform_create_in": "perform_create(data, parent=..., **values)",
}
"""Class attributes and hooks of earlier versions, with what replaced each: a subclass that
still declares one would silently lose what it meant (owner scoping, its sort allowlist)."""


def _refuse_retired_attributes(cls: type) -> None:
    retired = sorted(set(RETIRED_ATTRIBUTES) & set(vars(cls)))
    if retired:
        hints = "; ".join(f"{name} -> {RETIRED_ATTRIBUTES[name]}" for name in retired)
        raise TypeError(f"{cls.__qualname__} declares retired controller attributes: {hints}")


class BaseController(SessionBound, Generic[ModelT, CreateT, UpdateT, RepositoryT]):
    """CRUD over one model for one caller, in the request's unit of work.

    The model, the Create/Update schemas and (optionally) the repository come from the generic
    arguments; without a repository argument it is a plain `BaseRepository` of the model.
    """

    model: ClassVar[type[Any]]
    """The model (from the first generic argument)."""
    repository: RepositoryT
    """The repository of the model, on this controller's session."""
    owner: ClassVar[Owner | None] = None
    """The column holding the row's owner or author (see `Owner`)."""
    parent: ClassVar[Parent | None] = None
    """Makes this a child collection of another controller's rows (see `Parent`)."""
    tenant: ClassVar[Tenant | None] = None
    """Makes rows belong to an organization: members only, roles per action
    (`core.tenancy.Tenant`); `parent_id` is then the organization's id."""
    audit: ClassVar[Audit | None] = None
    """Records every create, update, delete and restore in the audit log, in the same
    transaction (`core.audit.Audit`)."""
    filterset: ClassVar[type[FilterSet] | None] = None
    """The query filters lists accept (the CRUD router exposes them as query parameters)."""
    pagination: ClassVar[Pagination] = OffsetPagination()
    """How lists page: `OffsetPagination(sort=…)` (numbered pages with a total, the default)
    or `CursorPagination()` (keyset pages in the repository's key order)."""

    _types: ClassVar[ControllerTypes]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _refuse_retired_attributes(cls)
        if cls.parent is not None and cls.tenant is not None:
            raise TypeError(
                f"{cls.__qualname__} declares both parent and tenant: a child of a "
                "tenant-scoped entity is scoped through its parent; declare the parent only"
            )
        for base in getattr(cls, "__orig_bases__", ()):
            origin, args = get_origin(base), get_args(base)
            if not (isinstance(origin, type) and issubclass(origin, BaseController)):
                continue
            if len(args) >= 3 and all(isinstance(arg, type) for arg in args[:3]):
                model, create, update = args[:3]
                repository = _repository_for(model, args[3] if len(args) > 3 else None)
                cls.model = model
                cls._types = ControllerTypes(model, create, update, repository)

    def __init__(self, session: AsyncSession, principal: Principal | None) -> None:
        super().__init__(session, principal)
        self.repository = cast(RepositoryT, self._types.repository(self.session))
        self._page_parent: uuid.UUID | None = None

    # -- override points ----------------------------------------------------------------------

    def visible(self, stmt: Select[ModelT], action: Action) -> Select[ModelT]:
        """Narrow `stmt` to the rows the caller may `action`; rows outside answer 404 exactly
        like rows that do not exist. Default: own rows (a private `owner`) of visible parents
        (`parent`) in the caller's organizations (`tenant`). Override for other row-level
        visibility, calling `super()` to keep those."""
        if self.owner is not None and self.owner.private:
            stmt = stmt.where(self._column(self.owner.field) == self.me.id)
        if self.tenant is not None:
            column = self._column(self.tenant.field)
            stmt = stmt.where(self.tenant.visible(column, self.me.id, action))
        if self.parent is not None:
            stmt = stmt.where(self._visible_parents())
        return stmt

    async def check_object(self, obj: ModelT, action: Action) -> None:
        """Raise `Forbidden` (or `NotFound`) if the caller may not do `action` to `obj`.
        Override for object permissions; lists are never checked here — use `visible`."""

    async def perform_create(self, data: CreateT, *, parent: Any = None, **values: Any) -> ModelT:
        """Build and insert the row from `data` plus server-set `values` (never from the
        client), with the owner set to the caller and, for a child, its parent's id. A child
        gets `parent`, the parent row (visible, and locked with `lock_on_create`); others get
        no `parent` argument. Override for derived fields, or to update the parent as well
        (e.g. its latest activity)."""
        if self.owner is not None:
            values.setdefault(self.owner.field, self.me.id)
        if parent is not None and self.parent is not None:
            values[self.parent.field] = parent.id
        fields = data.model_dump()
        self._refuse_out_of_range(fields)
        obj: ModelT = await self.repository.create(self.model(**fields, **values))
        return obj

    async def perform_update(self, obj: ModelT, data: UpdateT) -> ModelT:
        """Apply only the fields the client sent. Override for derived fields."""
        values = data.model_dump(exclude_unset=True)
        self._refuse_nulls_for_required_columns(values)
        self._refuse_out_of_range(values)
        updated: ModelT = await self.repository.update(obj, values)
        return updated

    async def perform_delete(self, obj: ModelT) -> None:
        """Soft-delete the row (hard-delete a model without soft delete). Override to cascade."""
        if self.repository.soft_deletes():
            await self.repository.soft_delete(obj)
        else:
            await self.repository.hard_delete(obj)

    async def written(self, action: Action, obj: ModelT) -> None:
        """Called after every `create`, `update`, `delete` and `restore` with the row as reads
        return it. Override to record an outbox or audit row in the same transaction and
        schedule its side effect with `self.after_commit(...)`."""

    async def annotate(self, rows: Sequence[ModelT]) -> None:
        """Attach per-caller values that are not columns (e.g. unread counts) to rows about to
        be returned — every page, read and write — in one query for all of them."""

    async def annotate_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """`annotate` for a page read as plain rows (`list(rows=True)`: dicts of columns): set
        the same values as keys of each dict. Override it beside `annotate` and the CRUD router
        keeps reading pages without the ORM, which costs a fraction of building entities."""

    # -- reads --------------------------------------------------------------------------------

    async def as_read(self, obj: ModelT) -> ModelT:
        """`obj` as reads return it: read again with the repository's `load_options` (when it
        has any) and `annotate`d. `create` returns this; call it after a write of your own that
        changed the row's related rows (e.g. a thread's participants)."""
        if self.repository.load_options:
            obj = await self.repository.reload(obj)
        await self.annotate([obj])
        return obj

    def controller(self, cls: type[ControllerT]) -> ControllerT:
        """The `cls` controller on this session for this caller, one per unit of work (e.g. a
        parent's, to reach its typed repository)."""
        return self._bound(cls)

    def query(
        self,
        filters: FilterSet | None = None,
        *,
        action: Action = Action.LIST,
        include_deleted: bool = False,
    ) -> Select[ModelT]:
        """The visible rows, filtered: the base of every list."""
        include_deleted = include_deleted or (filters is not None and filters.includes_deleted())
        stmt = self.visible(self.repository.select(include_deleted=include_deleted), action)
        return filters.apply(stmt) if filters is not None else stmt

    async def get(
        self,
        id_: uuid.UUID,
        *,
        action: Action = Action.READ,
        parent_id: uuid.UUID | None = None,
        for_update: bool = False,
        include_deleted: bool = False,
        options: Sequence[ExecutableOption] | None = None,
    ) -> ModelT:
        """One visible row the caller may `action`; 404 if missing, out of sight or — with
        `parent_id` — a child of another parent (a row of another organization); 403 when the
        caller's role in its organization is too low. `options` replaces the repository's
        `load_options` for this call (`()` reads the row alone)."""
        stmt = self.repository.by_id(id_, include_deleted=include_deleted)
        if parent_id is not None:
            stmt = stmt.where(self._column(self._path_field()) == parent_id)
        stmt = self.visible(stmt, action)
        stmt = stmt.options(*(self.repository.load_options if options is None else options))
        if for_update:
            stmt = stmt.with_for_update(of=self.model)
        obj: ModelT = await self.repository.one(stmt)
        if self.tenant is not None and self.tenant.checks_role(action):
            tenant_id = getattr(obj, self.tenant.field)
            await self.tenant.check(self.session, tenant_id, self.me.id, action)
        await self.check_object(obj, action)
        if options is None:
            await self.annotate([obj])
        return obj

    @overload
    async def list(
        self,
        page: OffsetParams,
        *,
        filters: FilterSet | None = None,
        parent_id: uuid.UUID | None = None,
        rows: bool = False,
    ) -> OffsetResult[ModelT]: ...

    @overload
    async def list(
        self,
        page: CursorParams,
        *,
        filters: FilterSet | None = None,
        parent_id: uuid.UUID | None = None,
        rows: bool = False,
    ) -> CursorResult[ModelT]: ...

    @overload
    async def list(
        self,
        page: None = None,
        *,
        filters: FilterSet | None = None,
        parent_id: uuid.UUID | None = None,
        rows: bool = False,
    ) -> OffsetResult[ModelT] | CursorResult[ModelT]: ...

    async def list(
        self,
        page: PageParams | None = None,
        *,
        filters: FilterSet | None = None,
        parent_id: uuid.UUID | None = None,
        rows: bool = False,
    ) -> OffsetResult[ModelT] | CursorResult[ModelT]:
        """A page of visible rows as `pagination` pages them (its first page when `page` is
        None); with `parent_id`, of that parent's children (404 if the caller cannot see the
        parent). `rows=True` reads plain dicts of columns instead of entities (the CRUD router
        does when its schema is made of columns alone)."""
        page = page or self.pagination.default_params()
        self.pagination.check_limit(page.limit)
        stmt = await self._children_of(parent_id, filters)
        result = await self.pagination.page(
            self.repository,
            stmt,
            page,
            options=self.repository.load_options,
            rows=rows,
            binding=self._cursor_binding(parent_id, filters),
        )
        await self._confirm_parent(parent_id, result.items)
        if rows:
            await self.annotate_rows(cast(Sequence[dict[str, Any]], result.items))
        else:
            await self.annotate(result.items)
        return result

    @classmethod
    def _cursor_binding(cls, parent_id: uuid.UUID | None, filters: FilterSet | None) -> str:
        """The list a cursor of `list` belongs to: this controller, the parent, the
        filters (a cursor used on another list or with other filters is a 400)."""
        name = f"{cls.__module__}.{cls.__qualname__}"
        return cursor_binding(name, parent_id=parent_id, filters=filters)

    # -- writes -------------------------------------------------------------------------------

    async def create(
        self, data: CreateT, *, parent_id: uuid.UUID | None = None, **values: Any
    ) -> ModelT:
        """Create a row from validated input plus server-set `values`; returned as reads
        return it. A child needs `parent_id` (404 if the caller cannot see that parent); a
        tenant-scoped row its organization's id there (404 for non-members, 403 for members
        whose role is too low)."""
        if self.tenant is not None:
            values[self.tenant.field] = await self._tenant_of_path(parent_id, Action.CREATE)
        elif self.parent is not None:
            if parent_id is None:
                raise TypeError(f"{type(self).__name__} creates children: pass parent_id")
            lock = self.parent.lock_on_create
            values["parent"] = await self._parent_row(parent_id, for_update=lock)
        elif parent_id is not None:
            raise TypeError(f"{type(self).__name__} declares no parent")
        obj = await self.as_read(await self.perform_create(data, **values))
        self._audited(Action.CREATE, obj, self._snapshot(obj))
        await self.written(Action.CREATE, obj)
        return obj

    async def update(
        self, id_: uuid.UUID, data: UpdateT, *, parent_id: uuid.UUID | None = None
    ) -> ModelT:
        """Partially update a visible row the caller may update."""
        obj = await self.get(id_, action=Action.UPDATE, parent_id=parent_id, for_update=True)
        before = self._snapshot(obj)
        obj = await self.perform_update(obj, data)
        if self.audit is not None and before is not None:
            self._audited(Action.UPDATE, obj, self.audit.changes(before, self.audit.snapshot(obj)))
        await self.written(Action.UPDATE, obj)
        return obj

    async def delete(self, id_: uuid.UUID, *, parent_id: uuid.UUID | None = None) -> None:
        """Delete (soft, where the model has it) a visible row the caller may delete."""
        obj = await self.get(id_, action=Action.DELETE, parent_id=parent_id, for_update=True)
        await self.perform_delete(obj)
        self._audited(Action.DELETE, obj)
        await self.written(Action.DELETE, obj)

    async def restore(self, id_: uuid.UUID, *, parent_id: uuid.UUID | None = None) -> ModelT:
        """Bring back a soft-deleted row the caller may restore."""
        obj = await self.get(
            id_, action=Action.RESTORE, parent_id=parent_id, for_update=True, include_deleted=True
        )
        obj = await self.repository.restore(obj)
        self._audited(Action.RESTORE, obj)
        await self.written(Action.RESTORE, obj)
        return obj

    # -- parents ------------------------------------------------------------------------------

    def _path_field(self) -> str:
        """The column the path's `parent_id` selects on: the parent's or the tenant's."""
        if self.tenant is not None:
            return self.tenant.field
        return self._parent().field

    async def _tenant_of_path(self, tenant_id: uuid.UUID | None, action: Action) -> uuid.UUID:
        """`tenant_id` once the caller may `action` in it (404 non-member, 403 low role)."""
        assert self.tenant is not None
        if tenant_id is None:
            raise TypeError(f"{type(self).__name__} is tenant-scoped: pass parent_id")
        await self.tenant.check(self.session, tenant_id, self.me.id, action)
        return tenant_id

    def _parent(self) -> Parent:
        if self.parent is None:
            raise TypeError(f"{type(self).__name__} declares no parent")
        return self.parent

    def _parent_controller(self) -> "BaseController[Any, Any, Any, Any]":
        return self.controller(self._parent().controller)

    async def _parent_row(self, parent_id: uuid.UUID, *, for_update: bool = False) -> Any:
        """The parent row the caller can see (404 otherwise), without its load options."""
        return await self._parent_controller().get(parent_id, for_update=for_update, options=())

    def _visible_parents(self) -> Any:
        parent = self._parent()
        column = self._column(parent.field)
        page_parent = self._page_parent
        if page_parent is not None and not parent.reads_by_visibility:
            return column == page_parent  # one parent, fetched through its visibility just now
        parents = self._parent_controller()
        visible = parents.query(action=Action.READ)
        parent_id = parents.model.__table__.c.id
        if page_parent is not None:  # one parent, checked in the same statement
            return and_(column == page_parent, visible.where(parent_id == page_parent).exists())
        return column.in_(visible.with_only_columns(parent_id))

    async def _children_of(
        self, parent_id: uuid.UUID | None, filters: FilterSet | None
    ) -> Select[ModelT]:
        if parent_id is None:
            return self.query(filters)
        if self.tenant is not None:
            await self._tenant_of_path(parent_id, Action.LIST)
            column = self._column(self.tenant.field)
            return self.query(filters).where(column == parent_id)
        if not self._parent().reads_by_visibility:
            # Read through its controller's visibility now: the children's filter needs
            # `parent_field == id`, not the subquery of every visible parent again.
            await self._parent_row(parent_id)
        self._page_parent = parent_id  # reads_by_visibility: `_confirm_parent` after the page
        try:
            return self.query(filters)
        finally:
            self._page_parent = None

    async def _confirm_parent(self, parent_id: uuid.UUID | None, items: Sequence[Any]) -> None:
        """An empty page of a parent checked in the page's own statement: 404 unless the caller
        can see the parent."""
        if self.parent is None or parent_id is None or items:
            return
        if self.parent.reads_by_visibility:
            await self._parent_row(parent_id)

    # -- helpers ------------------------------------------------------------------------------

    def _snapshot(self, obj: ModelT) -> dict[str, Any] | None:
        return None if self.audit is None else self.audit.snapshot(obj)

    def _audited(self, action: Action, obj: ModelT, changes: dict[str, Any] | None = None) -> None:
        """Add the audit entry of a write, when the controller is audited (`audit`)."""
        audit = self.audit
        if audit is None:
            return
        field = audit.organization or (self.tenant.field if self.tenant is not None else None)
        add_entry(
            self.session,
            self.principal,
            action.value,
            entity=audit.entity or self.model.__tablename__,
            entity_id=getattr(obj, "id", None),
            organization_id=getattr(obj, field) if field is not None else None,
            changes=changes,
        )

    def _column(self, name: str) -> InstrumentedAttribute[Any]:
        column: InstrumentedAttribute[Any] = getattr(self.model, name)
        return column

    def _refuse_out_of_range(self, values: Mapping[str, Any]) -> None:
        """An integer its column cannot hold (INTEGER: 32 bits) is a 422 naming the field, on
        every database (SQLite would store it; PostgreSQL refuses the write)."""
        columns = self.model.__table__.columns
        errors = [
            field_error(["body", name], f"At most {bound:,} in size.", "int_range")
            for name, value in values.items()
            if name in columns
            and (bound := integer_bound(columns[name].type)) is not None
            and isinstance(value, int)
            and not -bound - 1 <= value <= bound
        ]
        if errors:
            raise InvalidInput("Some numbers are too large to store.", errors=errors)

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
