"""Declarative base, the `CommonBase` every entity inherits, and the engine/session factory."""

import logging
import uuid
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, Uuid, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, ORMExecuteState, Session, mapped_column
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.util import greenlet_spawn
from uuid_utils.compat import uuid7

from core.dbconnect import guard_connects
from core.dbreplicas import Replica, ReplicaSet, WriteTrackingSession
from core.pagination import CursorCodec

if TYPE_CHECKING:
    from sqlalchemy.pool import PoolProxiedConnection

    from configs.database import DatabaseSettings

logger = logging.getLogger("plinth.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def insert_time(context: Any) -> datetime:
    """The column default of `created_at` and `updated_at`: one clock read per row, so a new
    row's `updated_at` equals its `created_at` (or the one of them the caller set). `context`
    is SQLAlchemy's execution context (see `BaseRepository.insert` for the Core path)."""
    row = context.get_current_parameters() if context is not None else {}
    for column in ("created_at", "updated_at"):
        value = row.get(column)
        if value is not None:
            return value  # type: ignore[no-any-return]
    return utcnow()


def new_id() -> uuid.UUID:
    """A time-ordered UUID (v7): new rows sort after old ones and index pages stay warm."""
    return uuid7()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are stored as naive UTC
    (which also keeps their text ordering correct) and come back tagged as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations get stable constraint names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class Entity(Base):
    """Abstract base of every table with an identity: a UUIDv7 `id` and `created_at`.

    Subclass it directly for append-only rows (a request log); entities that are edited and
    soft-deleted use `CommonBase`. `BaseRepository` works with both.
    """

    __abstract__ = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=insert_time)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


class CommonBase(Entity):
    """Abstract base of every entity: UUIDv7 `id`, `created_at`, `updated_at`, soft delete.

    Timestamps are set in Python, never by the server, so they are readable after a flush in
    async code without a refresh. `deleted` is true once `deleted_at` is set; repositories hide
    such rows unless asked.
    """

    __abstract__ = True

    updated_at: Mapped[datetime] = mapped_column(default=insert_time, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    @hybrid_property
    def deleted(self) -> bool:
        """True when the row is soft-deleted."""
        return self.deleted_at is not None

    @deleted.inplace.expression
    @classmethod
    def _deleted_expression(cls) -> ColumnElement[bool]:
        return cls.deleted_at.is_not(None)


IMPLICIT_LOADING = frozenset({"select", True})


class ImplicitLazyLoadError(TypeError):
    """A relationship would load on attribute access, which fails (MissingGreenlet) under async."""


@event.listens_for(Base, "mapper_configured", propagate=True)
def _forbid_implicit_lazy_loads(mapper: Mapper[Any], class_: type[Any]) -> None:
    """Refuse relationships that lazy-load implicitly; use `lazy="raise"` or an eager strategy."""
    for relationship in mapper.relationships:
        if relationship.lazy in IMPLICIT_LOADING:
            raise ImplicitLazyLoadError(
                f"{class_.__name__}.{relationship.key} uses lazy={relationship.lazy!r}: "
                'declare lazy="raise" (load it with selectinload/joinedload) or an eager strategy'
            )


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_pragmas_and_transactions(engine: AsyncEngine) -> None:
    """Foreign keys and WAL on every connection, and SQLAlchemy-owned BEGIN so SAVEPOINT works.

    Every transaction is `BEGIN IMMEDIATE`: it takes SQLite's single writer lock up front, so a
    second process (a CLI command beside `make run`, the tests' server processes, a job worker)
    waits for it under `busy_timeout`. A deferred `BEGIN` that reads and then writes has to
    upgrade its read snapshot; when another connection wrote in between, SQLite refuses that
    upgrade at once with "database is locked" — `busy_timeout` never applies to it. Within one
    process nothing changes: its one pooled connection already serialises its transactions.

    See SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" notes for pysqlite.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 5,
    pool_timeout: float = 10.0,
    pool_recycle: int = 1800,
    pool_pre_ping: bool = False,
    statement_timeout_ms: int | None = None,
    echo: bool = False,
    pooler: str = "none",
) -> AsyncEngine:
    """An async engine for PostgreSQL (asyncpg) or SQLite (aiosqlite) with the pool settings.

    SQLite allows one writer at a time, so the embedded default uses a single pooled connection:
    requests queue for it instead of failing with "database is locked".

    `pooler="transaction"`: `url` is PgBouncer in transaction pooling mode (see
    `pooler_connect_args`); `statement_timeout_ms` is then not sent, as PgBouncer refuses
    unknown startup parameters: set it on the role instead.
    """
    parsed = make_url(url)
    if _is_sqlite(parsed):
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            parsed, pool_size=1, max_overflow=0, pool_timeout=pool_timeout, echo=echo
        )
        _sqlite_pragmas_and_transactions(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if pooler == "transaction":
        connect_args.update(pooler_connect_args())
    elif statement_timeout_ms:
        connect_args["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
    engine = create_async_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
        pool_pre_ping=pool_pre_ping,
        connect_args=connect_args,
        echo=echo,
    )
    guard_connects(engine)
    return engine


def pooler_connect_args() -> dict[str, Any]:
    """asyncpg arguments for a pooler in transaction mode (PgBouncer), where consecutive
    statements may run on different server connections.

    No named prepared statement exists: asyncpg's statement cache is off and SQLAlchemy names
    each statement "" (unnamed). asyncpg then sends Parse again with each Bind/Execute, in one
    Sync, so a statement never relies on what an earlier round trip prepared on a server
    connection, inside a transaction or not — its answer to PgBouncer splitting implicit
    transactions (MagicStack/asyncpg#1058). SQLAlchemy's per-connection cache keeps what the
    first Parse/Describe learnt (parameter and column types), so a statement seen before costs
    one round trip, as it does without the pooler, instead of a Describe round trip and then
    the Parse/Bind/Execute one. Nothing notices when a migration changes a cached column's
    type (a named statement would fail once and be prepared again): such a migration needs
    the app's connections renewed, by a restart as a deploy does."""
    return {"statement_cache_size": 0, "prepared_statement_name_func": _unnamed_statement}


def _unnamed_statement() -> str:
    return ""


def engine_from_settings(db: "DatabaseSettings", url: str) -> AsyncEngine:
    """`create_engine` for `url` with the pool, timeout and pooler settings of `db`
    (`DATABASE_*`): what the app, the job worker and the CLI open, so every process's pool is
    the size the settings (and the pool arithmetic in docs/guides/scaling.md) say."""
    return create_engine(
        url,
        pool_size=db.pool_size,
        max_overflow=db.max_overflow,
        pool_timeout=db.pool_timeout_seconds,
        pool_recycle=db.pool_recycle_seconds,
        pool_pre_ping=db.pool_pre_ping,
        statement_timeout_ms=db.statement_timeout_ms,
        echo=db.echo,
        pooler=db.pooler,
    )


class ReadOnlyViolation(RuntimeError):
    """A write (or a row lock) in a read-only unit of work: the route is marked read-only
    (`core.routing.read_only`) but writes. Raised before anything reaches the database."""


class ReadOnlySession(Session):
    """The session of a read-only unit of work (`Database.session(read_only=True)`): it refuses
    to flush changes and to run `INSERT`, `UPDATE`, `DELETE` or `SELECT … FOR UPDATE`, which
    without a transaction would each commit (or unlock) on their own."""


_WRITES_IN_READ_ONLY = (
    "A read-only unit of work cannot write or lock rows: leave the route unmarked."
)


def _locks_rows(statement: Any) -> bool:
    return getattr(statement, "_for_update_arg", None) is not None


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    locks = state.is_select and _locks_rows(state.statement)
    if state.is_insert or state.is_update or state.is_delete or locks:
        raise ReadOnlyViolation(_WRITES_IN_READ_ONLY)


def refuse_locks_in_read_only(session: AsyncSession, statement: Select[Any]) -> None:
    """Raise `ReadOnlyViolation` if `statement` locks rows and `session` is read-only: for a
    select run on the session's connection (Core), which `do_orm_execute` does not see."""
    if _locks_rows(statement) and isinstance(session.sync_session, ReadOnlySession):
        raise ReadOnlyViolation(_WRITES_IN_READ_ONLY)


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, *_: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlyViolation(
            "A read-only unit of work cannot flush changes: leave the route unmarked."
        )


SESSION_CURSOR_CODEC = "cursor_codec"
"""Key of the cursor codec in `AsyncSession.info` (see `Database`)."""


def create_sessionmaker(
    engine: AsyncEngine,
    *,
    info: dict[str, Any] | None = None,
    sync_session_class: type[Session] = Session,
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (no surprise lazy loads in async code)."""
    return async_sessionmaker(
        engine,
        expire_on_commit=False,
        autoflush=False,
        info=info,
        sync_session_class=sync_session_class,
    )


DRIVER_PLANS = 256
"""How many statements `Database.fetch_one` keeps compiled for the driver (prebuilt ones)."""
PREPARED_ON_CONNECTION = "plinth.prepared"
"""The key of a pooled connection's `info` under which `_DriverPlan` keeps its statements."""

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _DriverPlan:
    """A prebuilt select compiled once for asyncpg: its SQL, its parameters in order with their
    bind processors, its columns' result processors, and the row type to build."""

    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]
    row: type[tuple[Any, ...]]

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect) -> "_DriverPlan | None":
        """The plan, or None when a column's type needs the driver's type code to read it
        (PostgreSQL numerics) or a parameter is rendered per execution (`IN` lists): such
        statements run through Core."""
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding or bind.literal_execute for bind in compiled.binds.values()):
            return None
        names = tuple(compiled.positiontup or ())
        defaults = {
            name: compiled.binds[name].effective_value
            for name in names
            if not compiled.binds[name].required
        }
        binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )
        columns = list(statement.selected_columns)
        try:
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in columns
            )
        except (exc.InvalidRequestError, TypeError):
            return None
        keys = [str(column.key) for column in columns]
        row = namedtuple("Row", keys, rename=True)  # type: ignore[misc]  # unnamed: _0, _1…
        return cls(compiled.string, names, defaults, binds, results, row)

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = (params[name] if name in params else self.defaults[name] for name in self.names)
        return [
            bind(value) if bind else value for value, bind in zip(values, self.binds, strict=True)
        ]

    async def fetchrow(self, connection: "PoolProxiedConnection", params: Mapping[str, Any]) -> Any:
        """The first record, or None, on the pooled asyncpg `connection`, with the statement
        prepared on it once (kept in the connection's `info`, which the pool clears when it
        replaces the connection). Behind a pooler (asyncpg's cache off) the statement is
        unnamed and asyncpg parses it again with each execution, so a run costs one round
        trip, as a named statement does on a direct connection."""
        prepared = connection.info.setdefault(PREPARED_ON_CONNECTION, {})
        statement = prepared.get(self.sql)
        if statement is None:
            driver: Any = connection.driver_connection
            statement = await driver.prepare(self.sql)
            if len(prepared) < DRIVER_PLANS:
                prepared[self.sql] = statement
        return await statement.fetchrow(*self.arguments(params))

    def build(self, record: Any) -> tuple[Any, ...]:
        return self.row(
            *(
                result(value) if result else value
                for result, value in zip(self.results, record, strict=True)
            )
        )


class Database:
    """The engine and session factory of one process; opened and closed by the app lifespan.

    `cursor_codec` signs keyset cursors (the app factory builds it from the app's secret):
    every session made here carries it in `session.info`, where repositories find it.
    `replicas`: streaming replicas that read-only units may read from (`core.dbreplicas`).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        cursor_codec: CursorCodec | None = None,
        replicas: ReplicaSet | None = None,
    ) -> None:
        self.engine = engine
        self.replicas = replicas
        self._info: dict[str, Any] = {}
        if cursor_codec is not None:
            self._info[SESSION_CURSOR_CODEC] = cursor_codec
        self.sessionmaker = create_sessionmaker(
            engine,
            info=self._info,
            sync_session_class=Session if replicas is None else WriteTrackingSession,
        )
        self._autocommit_engine = (
            engine if self.is_sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._read_only_sessionmaker = create_sessionmaker(
            self._autocommit_engine, info=self._info, sync_session_class=ReadOnlySession
        )
        self._driver_plans: dict[Select[Any], _DriverPlan | None] | None = (
            {} if engine.dialect.driver == "asyncpg" else None
        )
        for replica in replicas.replicas if replicas else ():
            replica.sessions = create_sessionmaker(
                replica.reads, info=self._info, sync_session_class=ReadOnlySession
            )

    def share(self, key: str, value: Any) -> None:
        """Put `value` in the `info` of every session made from now on (e.g. a publisher that
        after-commit hooks use)."""
        self._info[key] = value

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded SQLite backend."""
        return self.engine.dialect.name == "sqlite"

    def session(self, *, read_only: bool = False, replica: Replica | None = None) -> AsyncSession:
        """A new session; the caller closes it.

        `read_only=True` gives a session that only reads (a `ReadOnlySession`: a write or a
        row lock raises `ReadOnlyViolation` before it is sent). On PostgreSQL it runs without
        a transaction — each statement commits on its own, so a request pays no `BEGIN` and
        `COMMIT` round trips. At the default READ COMMITTED every statement sees a fresh
        snapshot inside a transaction too, so what a read returns does not change. On SQLite
        it is an ordinary transaction. `replica` (with `read_only`): read from that replica of
        `replicas`."""
        if read_only and replica is not None and replica.sessions is not None:
            return replica.sessions()
        return self._read_only_sessionmaker() if read_only else self.sessionmaker()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A pooled Core connection outside any unit of work, for one or two statements on the
        hot path (authentication): on PostgreSQL each statement commits on its own — no
        `BEGIN`/`COMMIT` round trips; on SQLite the block is one transaction, committed at the
        end. Keep the block short: on SQLite it holds the only connection."""
        if self.is_sqlite:
            async with self.engine.begin() as connection:
                yield connection
            return
        async with self._autocommit_engine.connect() as connection:
            yield connection

    async def fetch_one(self, statement: Select[Any], params: Mapping[str, Any]) -> Any | None:
        """The first row of a prebuilt select (bound by `bindparam` names in `params`), outside
        any unit of work, or None: for the lookup every request makes (authentication).

        On asyncpg the statement is compiled once and run on a pooled driver connection itself
        — SQLAlchemy's pool, SQL and types, without a Core connection and execution context,
        which cost a request more than the query does. The row is a named tuple with the
        statement's column keys and the values a Core execution returns. If the driver call
        fails, that connection is discarded and the statement runs once more through Core, so
        an error surfaces as SQLAlchemy raises it (the database down: 503; a cancelled
        statement: 504). While anything listens to the engine's statements (tracing, a test
        counting queries), and elsewhere (SQLite), it is a Core execution in `autocommit()`.
        """
        plan = self._driver_plan(statement)
        if plan is not None and not self._observed():
            fairy = await self._autocommit_engine.raw_connection()
            try:
                record = await plan.fetchrow(fairy, params)
            except Exception as error:  # run again through Core below, which reports it
                logger.info("driver fetch failed (%s); again through Core", type(error).__name__)
                await greenlet_spawn(fairy.invalidate)
            else:
                return None if record is None else plan.build(record)
            finally:
                await greenlet_spawn(fairy.close)  # closing may await the driver: in a greenlet
        async with self.autocommit() as connection:
            return (await connection.execute(statement, params)).one_or_none()

    def _observed(self) -> bool:
        """Whether something listens to the engine's statements (tracing, statement logs,
        tests counting queries): they see only what runs through Core."""
        dispatch = self._autocommit_engine.sync_engine.dispatch
        return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)

    def _driver_plan(self, statement: Select[Any]) -> _DriverPlan | None:
        plans = self._driver_plans
        if plans is None:
            return None
        if statement in plans:
            return plans[statement]
        plan = _DriverPlan.of(statement, self.engine.dialect)
        if len(plans) < DRIVER_PLANS:
            plans[statement] = plan
        return plan

    async def dispose(self) -> None:
        """Stop the replica checks and close every pooled connection."""
        if self.replicas is not None:
            await self.replicas.stop()
        await self.engine.dispose()
