"""`BaseController[Model, Create, Update]`: the generic CRUD behaviour of one entity.

Configure with class attributes; change behaviour in the small override points:

- `scope(stmt)` — which rows this principal may see at all (lists and single reads alike).
- `check_object(obj, action)` — may this principal do `action` to this visible row?
- `perform_create / perform_update / perform_delete` — how the write is done (owner fields...).

Controllers never commit: a `ControllerService.atomic()` block around the calls does.
"""

import uuid
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ExecutableOption

from core.db import CommonBase
from core.errors import InvalidInput, field_error
from core.filtering import FilterSet, parse_sort
from core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from core.repository import BaseRepository, CursorResult, OffsetResult
from core.security import Principal

ModelT = TypeVar("ModelT", bound=CommonBase)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)


class Action(StrEnum):
    """What a caller wants to do with one object; passed to `check_object`."""

    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"


class BaseController(Generic[ModelT, CreateT, UpdateT]):
    """CRUD over one model for one principal, on the request's session."""

    repository_class: ClassVar[type[BaseRepository[Any]]]
    """The repository of the model."""
    read_options: ClassVar[Sequence[ExecutableOption]] = ()
    """Eager loads applied to every read (e.g. `selectinload(Thread.participants)`)."""
    sort_fields: ClassVar[Mapping[str, Any]] = {}
    """Allowlist for `?sort=`: public name → column. `id` is always appended as tie-breaker."""
    default_sort: ClassVar[str] = "-created_at"
    max_limit: ClassVar[int] = MAX_LIMIT

    def __init__(self, session: AsyncSession, principal: Principal | None) -> None:
        self.session = session
        self.principal = principal
        self.repository: BaseRepository[ModelT] = self.repository_class(session)

    # -- override points ----------------------------------------------------------------------

    def scope(self, stmt: Select[ModelT]) -> Select[ModelT]:
        """Narrow `stmt` to the rows the principal may see. Override for row-level visibility;
        rows outside the scope answer 404 exactly like rows that do not exist."""
        return stmt

    async def check_object(self, obj: ModelT, action: Action) -> None:
        """Raise `Forbidden` (or `NotFound`) if the principal may not do `action` to `obj`.
        Override for object permissions; lists are never checked here — use `scope`."""

    async def perform_create(self, data: CreateT) -> ModelT:
        """Build and insert the row. Override to set owner fields from `self.principal`."""
        return await self.repository.add(self.repository.model(**data.model_dump()))

    async def perform_update(self, obj: ModelT, data: UpdateT) -> ModelT:
        """Apply only the fields the client sent. Override for derived fields."""
        values = data.model_dump(exclude_unset=True)
        self._refuse_nulls_for_required_columns(values)
        return await self.repository.update(obj, values)

    def _refuse_nulls_for_required_columns(self, values: Mapping[str, Any]) -> None:
        """An explicit `null` for a NOT NULL column is the client's mistake: 422, not 409."""
        columns = self.repository.model.__table__.columns
        errors = [
            field_error(["body", name], "This field may be omitted but not null.", "null_value")
            for name, value in values.items()
            if value is None and name in columns and not columns[name].nullable
        ]
        if errors:
            raise InvalidInput("Some fields may not be null.", errors=errors)

    async def perform_delete(self, obj: ModelT) -> None:
        """Soft-delete the row. Override to cascade or to hard-delete."""
        await self.repository.soft_delete(obj)

    # -- queries ------------------------------------------------------------------------------

    def query(
        self, filters: FilterSet | None = None, *, include_deleted: bool = False
    ) -> Select[ModelT]:
        """The visible rows, filtered: the base of every list."""
        stmt = self.scope(self.repository.select(include_deleted=include_deleted))
        return filters.apply(stmt) if filters is not None else stmt

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
    ) -> ModelT:
        """One visible row the principal may `action`; 404 if missing or out of scope."""
        model = self.repository.model
        stmt = self.scope(self.repository.by_id(id_, include_deleted=include_deleted))
        stmt = stmt.options(*self.read_options)
        if for_update:
            stmt = stmt.with_for_update(of=model)
        obj = await self.repository.one(stmt)
        await self.check_object(obj, action)
        return obj

    async def list(
        self,
        *,
        filters: FilterSet | None = None,
        sort: str | None = None,
        limit: int = DEFAULT_LIMIT,
        offset: int = 0,
    ) -> OffsetResult[ModelT]:
        """A numbered page of visible rows in an allowlisted order, with the total."""
        self._check_limit(limit)
        order = [*parse_sort(sort, self.sort_fields, self.default_sort), self.repository.model.id]
        stmt = self.query(filters).order_by(*order)
        return await self.repository.page_offset(
            stmt, limit=limit, offset=offset, options=self.read_options
        )

    async def list_after(
        self,
        *,
        filters: FilterSet | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
        descending: bool = True,
    ) -> CursorResult[ModelT]:
        """A keyset page of visible rows in the repository's fixed key order."""
        self._check_limit(limit)
        return await self.repository.page_keyset(
            self.query(filters),
            limit=limit,
            cursor=cursor,
            descending=descending,
            options=self.read_options,
        )

    # -- writes -------------------------------------------------------------------------------

    async def create(self, data: CreateT) -> ModelT:
        """Create a row from validated input."""
        return await self.perform_create(data)

    async def update(self, id_: uuid.UUID, data: UpdateT) -> ModelT:
        """Partially update a visible row the principal may update."""
        obj = await self.get(id_, action=Action.UPDATE, for_update=True)
        return await self.perform_update(obj, data)

    async def delete(self, id_: uuid.UUID) -> None:
        """Soft-delete a visible row the principal may delete."""
        obj = await self.get(id_, action=Action.DELETE, for_update=True)
        await self.perform_delete(obj)

    async def restore(self, id_: uuid.UUID) -> ModelT:
        """Bring back a soft-deleted row the principal may restore."""
        obj = await self.get(id_, action=Action.RESTORE, for_update=True, include_deleted=True)
        return await self.repository.restore(obj)
