"""`BaseRepository[Model]`: statement builders and executors over one `AsyncSession`.

Builders (`select`, `by_id`) return statements that callers keep composing; executors run them.
Writes flush and never commit — the request's unit of work (`core.service`) commits once.
A flush that violates a constraint raises `Conflict`; the unit of work then rolls back.

    class TodoRepository(BaseRepository[Todo]):
        model = Todo

Any `Entity` works; soft delete applies to models that have it (`CommonBase`).
"""

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import (
    Delete,
    Executable,
    Insert,
    Result,
    Row,
    Select,
    Update,
    bindparam,
    delete,
    exists,
    func,
    insert,
    inspect,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import CursorResult as DatabaseCursor
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.base import ExecutableOption

from core.db import (
    SESSION_CURSOR_CODEC,
    CommonBase,
    Entity,
    refuse_locks_in_read_only,
    utcnow,
)
from core.errors import Conflict, NotFound
from core.pagination import CursorCodec

ModelT = TypeVar("ModelT", bound=Entity)

_PROTECTED_FIELDS = frozenset({"id", "created_at", "updated_at", "deleted_at"})


@dataclass(frozen=True)
class OffsetResult(Generic[ModelT]):
    """Rows of one numbered page and the total matching rows."""

    items: Sequence[ModelT]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class CursorResult(Generic[ModelT]):
    """Rows of one keyset page; `next_cursor` is None on the last page."""

    items: Sequence[ModelT]
    next_cursor: str | None
    has_more: bool


class BaseRepository(Generic[ModelT]):
    """Data access for one model. Subclass with `model = YourModel` and add query builders."""

    model: type[ModelT]
    not_found_detail: ClassVar[str] = "The resource does not exist."
    """The 404 detail; "The <model name> does not exist." unless set."""
    conflict_detail: ClassVar[str] = "The change conflicts with existing data."
    """The 409 detail of a constraint violation."""
    load_options: ClassVar[Sequence[ExecutableOption]] = ()
    """Eager loads of every row a controller returns (e.g. `selectinload(Thread.participants)`);
    a plain `get` or `one` applies only the options it is given."""
    create_with_insert: ClassVar[bool] = False
    """`create` writes with one Core `INSERT` (`insert`) instead of a unit-of-work flush (`add`):
    much cheaper, but the new row is not in the session. Set it for rows that are created and
    returned as they are (messages, events), not for rows the same request keeps changing
    through their attributes or that `load_options` reload."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "model" in cls.__dict__ and "not_found_detail" not in cls.__dict__:
            words = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.model.__name__).lower()
            cls.not_found_detail = f"The {words} does not exist."

    def __init__(self, session: AsyncSession, *, cursor_codec: CursorCodec | None = None) -> None:
        self.session = session
        self._codec = cursor_codec

    @classmethod
    def soft_deletes(cls) -> bool:
        """Whether the model has soft delete (a `CommonBase`): reads then hide deleted rows."""
        return issubclass(cls.model, CommonBase)

    @property
    def cursor_codec(self) -> CursorCodec:
        """Signs keyset cursors: the one given, else the session's (see `core.db.Database`)."""
        codec = self._codec or self.session.info.get(SESSION_CURSOR_CODEC)
        if not isinstance(codec, CursorCodec):
            raise RuntimeError("keyset pages need a cursor codec: build Database(cursor_codec=…)")
        return codec

    # -- statement builders -------------------------------------------------------------------

    def select(self, *, include_deleted: bool = False) -> Select[ModelT]:
        """`SELECT model`, hiding soft-deleted rows unless `include_deleted`."""
        stmt = select(self.model)
        if not include_deleted and issubclass(self.model, CommonBase):
            # The table's column, not the ORM attribute: the same SQL, built in a fraction of
            # the time (these builders run on every read and write).
            stmt = stmt.where(self.model.__table__.c.deleted_at.is_(None))
        return stmt

    def by_id(self, id_: uuid.UUID, *, include_deleted: bool = False) -> Select[ModelT]:
        """The statement for one row by primary key."""
        column = self.model.__table__.c.id
        return self.select(include_deleted=include_deleted).where(column == id_)

    # -- executors ----------------------------------------------------------------------------

    async def one(self, stmt: Select[ModelT]) -> ModelT:
        """Exactly one row, else `NotFound`."""
        row = await self.one_or_none(stmt)
        if row is None:
            raise NotFound(self.not_found_detail)
        return row

    async def one_or_none(self, stmt: Select[ModelT]) -> ModelT | None:
        """The first row of the statement, or None."""
        result = await self.session.scalars(stmt.limit(1))
        return result.first()

    async def all(self, stmt: Select[ModelT]) -> Sequence[ModelT]:
        """Every row of the statement."""
        return (await self.session.scalars(stmt)).all()

    async def rows(self, stmt: Select[ModelT]) -> Sequence[Any]:
        """Every row of the statement as a plain dict of the model's columns (column key →
        value): no ORM instances, no identity map. For read pages whose schema is made of the
        model's columns alone: pydantic validates a dict several times faster than the same
        values read as a row's attributes (`from_attributes`)."""
        keys = self.model.__table__.columns.keys()
        return _as_dicts(keys, await self._column_rows(self._model_columns(stmt)))

    async def _column_rows(self, stmt: Select[Any]) -> Sequence[Row[Any]]:
        """The rows of a select of plain columns, run on the session's connection (Core): the
        ORM would pass every row through its loading machinery only to give back the same
        tuples — 0.2-0.3 ms more per 100 rows (bench/README.md)."""
        refuse_locks_in_read_only(self.session, stmt)
        connection = await self.session.connection()
        result: Result[Any] = await connection.execute(stmt)
        return result.all()

    def _model_columns(self, stmt: Select[Any], *extra: Any) -> Select[Any]:
        """`stmt` selecting the model's table columns (then `extra`) instead of entities."""
        columns = self.model.__table__.columns
        return stmt.with_only_columns(*columns, *extra, maintain_column_froms=True)

    async def count(self, stmt: Select[ModelT]) -> int:
        """`COUNT(*)` of the statement's rows, narrowed to the count (no ORDER BY, no window)."""
        return int((await self.session.execute(self._count_statement(stmt))).scalar_one())

    @staticmethod
    def _count_statement(stmt: Select[Any]) -> Select[Any]:
        return stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)

    async def exists(self, stmt: Select[ModelT]) -> bool:
        """Whether the statement matches any row."""
        return bool((await self.session.execute(select(exists(stmt.order_by(None))))).scalar())

    async def get(
        self,
        id_: uuid.UUID,
        *,
        options: Iterable[ExecutableOption] = (),
        for_update: bool = False,
        include_deleted: bool = False,
    ) -> ModelT:
        """One row by id with eager-load `options`, optionally locked; `NotFound` if absent."""
        stmt = self.by_id(id_, include_deleted=include_deleted).options(*options)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.one(stmt)

    async def page_offset(
        self,
        stmt: Select[ModelT],
        *,
        limit: int,
        offset: int,
        options: Iterable[ExecutableOption] = (),
        rows: bool = False,
    ) -> OffsetResult[ModelT]:
        """One numbered page of an ordered statement plus the total; `rows=True` returns
        plain dicts (see `rows()`) instead of entities.

        The total is the statement's `COUNT(*)` as an uncorrelated scalar subquery of the page
        query: one round trip, and the database counts once (not `COUNT(*) OVER ()`, which
        would number every matching row). A page past the end has no row to carry it: then it
        is counted on its own."""
        total_column = self._count_statement(stmt).correlate(None).scalar_subquery()
        page = stmt.limit(limit).offset(offset)
        if rows:
            keys = self.model.__table__.columns.keys()
            found = await self._column_rows(self._model_columns(page, total_column))
            items: Sequence[Any] = _as_dicts(keys, (row[:-1] for row in found))
        else:
            counted = page.add_columns(total_column).options(*options)
            found = (await self.session.execute(counted)).all()
            items = [row[0] for row in found]
        if found:
            return OffsetResult(items=items, total=int(found[0][-1]), limit=limit, offset=offset)
        total = await self.count(stmt) if offset else 0  # no row carries it
        return OffsetResult(items=items, total=total, limit=limit, offset=offset)

    def keyset_key(self) -> tuple[InstrumentedAttribute[Any], ...]:
        """The fixed order keyset pages walk: `(created_at, id)`. Override for another key."""
        return (self.model.created_at, self.model.id)

    async def page_keyset(
        self,
        stmt: Select[ModelT],
        *,
        limit: int,
        cursor: str | None = None,
        descending: bool = True,
        key: Sequence[InstrumentedAttribute[Any]] | None = None,
        options: Iterable[ExecutableOption] = (),
        rows: bool = False,
        binding: str = "",
    ) -> CursorResult[ModelT]:
        """One keyset page after `cursor`, in the fixed order of `key`; fetches `limit + 1`;
        `rows=True` returns plain dicts (see `rows()`) instead of entities.

        Cursors belong to their list: `binding` names it (`core.pagination.cursor_binding`: the
        list, its parent, its filters) and the model, key and direction are added here, so a
        cursor of another list, filters, key or direction is a 400 instead of a wrong page.

        Rows inserted before the cursor's position never shift later pages, and the cost does
        not grow with depth when an index covers the filter columns followed by `key`.
        """
        columns = tuple(key or self.keyset_key())
        context = self._cursor_context(binding, columns, descending)
        if cursor is not None:
            types = [c.type.python_type for c in columns]
            values = self.cursor_codec.decode(cursor, types, binding=context)
            binds = (bindparam(None, v, type_=c.type) for c, v in zip(columns, values, strict=True))
            bound = tuple_(*binds)
            row = tuple_(*columns)
            stmt = stmt.where(row < bound if descending else row > bound)
        order = [c.desc() if descending else c.asc() for c in columns]
        page = stmt.order_by(None).order_by(*order).limit(limit + 1)
        found = await (self.rows(page) if rows else self.all(page.options(*options)))
        has_more = len(found) > limit
        items = found[:limit]
        next_cursor = None
        if has_more:
            last: Any = items[-1]
            key_values = [last[c.key] if rows else getattr(last, c.key) for c in columns]
            next_cursor = self.cursor_codec.encode(key_values, binding=context)
        return CursorResult(items=items, next_cursor=next_cursor, has_more=has_more)

    @classmethod
    def _cursor_context(
        cls, binding: str, columns: Sequence[InstrumentedAttribute[Any]], descending: bool
    ) -> str:
        """The binding of a keyset walk: the caller's (the list), the model, key and direction."""
        order = "desc" if descending else "asc"
        return json.dumps([binding, cls.model.__name__, [str(c) for c in columns], order])

    # -- writes (flush, never commit) ---------------------------------------------------------

    async def execute_write(self, stmt: Executable, params: Mapping[str, Any] | None = None) -> int:
        """Run an `UPDATE` or `DELETE` statement; how many rows it matched."""
        result = await self.session.execute(stmt, params)
        if not isinstance(result, DatabaseCursor):
            raise TypeError("execute_write runs UPDATE and DELETE statements")
        return int(result.rowcount)

    async def flush(self) -> None:
        """Flush pending changes; a value the database refuses becomes `Conflict`."""
        try:
            await self.session.flush()
        except DBAPIError as exc:
            if not refused_by_database(exc):
                raise
            raise Conflict(self.conflict_detail) from exc

    async def create(self, obj: ModelT) -> ModelT:
        """Insert a new row the way this repository creates rows: `add`, or `insert` with
        `create_with_insert`."""
        return await (self.insert(obj) if self.create_with_insert else self.add(obj))

    async def reload(self, obj: ModelT) -> ModelT:
        """`obj` read again with `load_options`, soft-deleted or not (after its related rows
        changed in this unit of work)."""
        stmt = self.by_id(obj.id, include_deleted=True).options(*self.load_options)
        return await self.one(stmt.execution_options(populate_existing=True))

    async def add(self, obj: ModelT) -> ModelT:
        """Insert one row."""
        self.session.add(obj)
        await self.flush()
        return obj

    async def add_many(self, objs: Iterable[ModelT]) -> list[ModelT]:
        """Insert several rows in one flush."""
        rows = list(objs)
        self.session.add_all(rows)
        await self.flush()
        return rows

    async def insert(self, obj: ModelT) -> ModelT:
        """Insert `obj` with one Core `INSERT` of its column values, outside the ORM's unit of
        work: no flush plan, no identity-map entry. Columns left unset get their Python-side
        defaults first (id, timestamps, `default=None`), so `obj` reads as the stored row.

        Use it instead of `add` for rows created once and returned as they are (messages,
        events, audit rows): it costs a fraction of a flush. `obj` stays transient — later
        changes in the same unit of work go through statements, not its attributes. Pending
        ORM changes are flushed first (as autoflush would); a constraint violation is a
        `Conflict`. Columns with only a server-side default are left to the database and are
        not read back.
        """
        await self.flush()
        state, columns = obj.__dict__, _insert_columns(self.model)
        values = {column: state[key] for key, column, _ in columns if key in state}
        for key, column, default in columns:
            if key not in state and default is not None:
                values[column] = value = default(values)  # after the values set: see insert_time
                setattr(obj, key, value)
        try:
            await self.session.execute(_insert_statement(self.model), values)
        except DBAPIError as exc:
            if not refused_by_database(exc):
                raise
            raise Conflict(self.conflict_detail) from exc
        return obj

    async def update(self, obj: ModelT, values: Mapping[str, Any]) -> ModelT:
        """Set only the given column values (e.g. `model_dump(exclude_unset=True)`) and flush.

        Keys must be column attributes of the model; `id` and the timestamps are refused so a
        client payload can never rewrite them.
        """
        columns = inspect(self.model).column_attrs.keys()
        for name, value in values.items():
            if name in _PROTECTED_FIELDS or name not in columns:
                raise ValueError(f"{self.model.__name__}.{name} cannot be updated this way")
            setattr(obj, name, value)
        if isinstance(obj, CommonBase):
            obj.updated_at = utcnow()
        await self.flush()
        return obj

    async def soft_delete(self, obj: ModelT) -> ModelT:
        """Mark the row deleted; it disappears from default queries."""
        _soft_deletable(obj).deleted_at = _soft_deletable(obj).updated_at = utcnow()
        await self.flush()
        return obj

    async def restore(self, obj: ModelT) -> ModelT:
        """Undo a soft delete."""
        row = _soft_deletable(obj)
        row.deleted_at = None
        row.updated_at = utcnow()
        await self.flush()
        return obj

    async def hard_delete(self, obj: ModelT) -> None:
        """Delete the row for good."""
        await self.session.delete(obj)
        await self.flush()

    # -- bulk writes: one statement over the rows a select matches (flushes first) -------------

    async def update_where(
        self, stmt: Select[ModelT], values: Mapping[str, Any], *, max_rows: int | None = None
    ) -> int:
        """Set `values` on every row `stmt` matches, in one `UPDATE`; the number of rows.

        `stmt` is a select of this model, typically a controller's `query()` (the rows the
        caller may see) with more `.where()`: joins and subqueries in it are kept, rows outside
        it are never touched. Keys are refused as in `update`; `updated_at` is set. Rows
        already loaded in the session see the new values (SQL-expression values are expired
        instead: refresh before reading them). More matching rows than `max_rows` is a
        `Conflict`, before anything is written.
        """
        self._check_values(values)
        return await self._write_where(stmt, values, max_rows=max_rows)

    async def soft_delete_where(self, stmt: Select[ModelT], *, max_rows: int | None = None) -> int:
        """Soft-delete every row `stmt` matches that is not deleted yet, in one `UPDATE`; the
        number of rows deleted. See `update_where` for `stmt` and `max_rows`."""
        now = utcnow()
        live = stmt.where(self._deleted_at().is_(None))
        values = {"deleted_at": now, "updated_at": now}
        return await self._write_where(live, values, max_rows=max_rows)

    async def restore_where(self, stmt: Select[ModelT], *, max_rows: int | None = None) -> int:
        """Undo the soft delete of every deleted row `stmt` matches (build it with
        `include_deleted=True`), in one `UPDATE`; the number of rows restored."""
        deleted = stmt.where(self._deleted_at().is_not(None))
        return await self._write_where(deleted, {"deleted_at": None}, max_rows=max_rows)

    async def hard_delete_where(self, stmt: Select[ModelT], *, max_rows: int | None = None) -> int:
        """Delete every row `stmt` matches for good, in one `DELETE`; the number of rows. Rows
        loaded in the session leave it. See `update_where` for `stmt` and `max_rows`."""
        ids = await self._matched_ids(stmt, max_rows)
        table = self.model.__table__
        return len(await self._execute_write(delete(self.model).where(table.c.id.in_(ids))))

    def _check_values(self, values: Mapping[str, Any]) -> None:
        columns = inspect(self.model).column_attrs.keys()
        for name in values:
            if name in _PROTECTED_FIELDS or name not in columns:
                raise ValueError(f"{self.model.__name__}.{name} cannot be updated this way")

    def _deleted_at(self) -> Any:
        if not self.soft_deletes():
            raise TypeError(f"{self.model.__name__} has no soft delete (it is not a CommonBase)")
        return self.model.__table__.c.deleted_at

    async def _write_where(
        self, stmt: Select[ModelT], values: Mapping[str, Any], *, max_rows: int | None
    ) -> int:
        ids = await self._matched_ids(stmt, max_rows)
        if self.soft_deletes():
            values = {"updated_at": utcnow(), **values}
        table = self.model.__table__
        statement = update(self.model).where(table.c.id.in_(ids)).values(**values)
        changed = await self._execute_write(statement, synchronize=False)
        self._refresh_loaded(changed, values)
        return len(changed)

    def _refresh_loaded(self, ids: Sequence[uuid.UUID], values: Mapping[str, Any]) -> None:
        """Give the rows of `ids` loaded in the session the values just written, as if read
        from the database (nothing to flush); SQL-expression values are expired instead.

        The ORM's own synchronisation only updates attributes already loaded, so a row created
        in this session would keep `deleted_at` unset after a soft delete."""
        mapper = inspect(self.model)
        identities = self.session.sync_session.identity_map
        computed = [key for key, value in values.items() if isinstance(value, ClauseElement)]
        for id_ in ids:
            obj = identities.get(mapper.identity_key_from_primary_key((id_,)))
            if obj is None:
                continue
            for key, value in values.items():
                if key not in computed:
                    set_committed_value(obj, key, value)
            if computed:
                self.session.expire(obj, computed)

    async def _matched_ids(self, stmt: Select[ModelT], max_rows: int | None) -> Select[Any]:
        """`stmt` selecting only the ids (its joins and subqueries kept, never correlated to the
        statement that writes); with `max_rows`, first checked to match no more rows."""
        if [(d["type"], d["entity"]) for d in stmt.column_descriptions] != [(self.model,) * 2]:
            raise ValueError(f"a bulk write of {self.model.__name__} needs a select of it alone")
        ids = stmt.with_only_columns(self.model.__table__.c.id, maintain_column_froms=True)
        ids = ids.correlate(None)
        if max_rows is not None:
            probe = ids.order_by(None).limit(max_rows + 1).subquery()
            found = (await self.session.execute(select(func.count()).select_from(probe))).scalar()
            if (found or 0) > max_rows:
                raise Conflict(f"More than {max_rows} rows match; narrow the selection.")
        return ids

    async def _execute_write(
        self, statement: Update | Delete, *, synchronize: bool = True
    ) -> Sequence[uuid.UUID]:
        """Run the write with RETURNING of the ids (the count, on every database); with
        `synchronize`, the ORM brings the session's loaded rows in step (deleted rows leave)."""
        await self.flush()
        returning = statement.returning(self.model.__table__.c.id)
        options = {"synchronize_session": "fetch" if synchronize else False}
        try:
            result = await self.session.execute(returning, execution_options=options)
        except DBAPIError as exc:
            if not refused_by_database(exc):
                raise
            raise Conflict(self.conflict_detail) from exc
        return result.scalars().all()


@cache
def _insert_statement(model: type[Entity]) -> Insert:
    """`INSERT INTO <table>`, built once per model; `insert()` binds the values."""
    return insert(model.__table__)  # type: ignore[arg-type]


@cache
def _insert_columns(
    model: type[Entity],
) -> tuple[tuple[str, str, Callable[[dict[str, Any]], Any] | None], ...]:
    """(attribute, column, Python-side default or None) of each column `insert()` writes:
    a column with neither a value nor a default of its own is written as NULL, one with only
    a server default is left to the database."""
    found = []
    for attr in inspect(model).column_attrs:
        column = attr.columns[0]
        found.append((attr.key, column.key, _python_default(column)))
    return tuple(found)


def _python_default(column: Any) -> Callable[[dict[str, Any]], Any] | None:
    """A callable of the row's values so far, for `insert()`: context-sensitive defaults (such
    as `core.db.insert_time`) read them as they would in an `INSERT` the ORM runs."""
    default = column.default
    if default is None:
        return None if column.server_default is not None else _null
    if default.is_callable:
        # SQLAlchemy wraps every callable to take an execution context.
        return lambda values: default.arg(_RowSoFar(values))
    if default.is_scalar:
        return lambda values: default.arg
    return None  # a SQL expression: the database computes it


class _RowSoFar:
    """What a context-sensitive column default reads: the row's values so far."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.current_parameters = values

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.current_parameters


def _null(values: dict[str, Any]) -> None:
    return None


def refused_by_database(error: DBAPIError) -> bool:
    """Whether the database refused the values written: a constraint (unique, foreign key,
    CHECK) or, on PostgreSQL, a value its column cannot hold (SQLSTATE class 22, e.g. text
    longer than a VARCHAR: an enum column's CHECK on SQLite, its length on PostgreSQL)."""
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    return isinstance(error, IntegrityError) or sqlstate.startswith("22")


def _as_dicts(keys: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _soft_deletable(obj: Entity) -> CommonBase:
    if not isinstance(obj, CommonBase):
        raise TypeError(f"{type(obj).__name__} has no soft delete (it is not a CommonBase)")
    return obj
