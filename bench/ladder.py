"""The ladder: the reference, then Plinth's building blocks added one at a time.

    LADDER_RUNG=redis REF_DSN=postgresql://... REF_SECRET=... LADDER_REDIS_URL=redis://... \\
        uvicorn bench.ladder:app

One app module; `LADDER_RUNG` picks the blocks (cumulative, in `RUNGS` order):

- `reference`: plain FastAPI + asyncpg + PyJWT (what bench/reference.py is, for these routes);
- `core`: the same with SQLAlchemy Core on an `AsyncEngine` instead of asyncpg (beside `orm`);
- `orm`: an ORM `AsyncSession` per request, the app's own models and statements;
- `redis`: + one `EVALSHA` per request, the app's GCRA script (core/platform/ratelimit);
- `middlewares`: + six pure-ASGI pass-through middlewares;
- `log`: + one request-log row per request into an in-memory buffer, written in batches
  (500 rows or every 2 s, executemany) like core/platform/requestlog/writer;
- `pydantic`: + the app's response models (`UserRead`, `CursorPage[MessageRead]`).

Three routes doing the app's work, statement for statement (checked with PostgreSQL's
statement log against the app): every one verifies the JWT (same claims) and reads the account
with its session (`users LEFT JOIN auth_sessions`, the revocation check);

- GET /me returns the account;
- GET /threads/{id}/messages?limit=50[&cursor=] checks the thread is visible to the caller, then
  reads one keyset page (`created_at, id` newest first, `limit + 1` rows);
- POST /threads/{id}/messages writes what the app writes in one transaction: the thread row
  locked (`SELECT … FOR UPDATE`), its next event id, the message, the thread's activity, the
  author's read marker, the `realtime_events` row (the event's JSON frame) and the member list
  the event is published to.

The SQLAlchemy rungs wrap each request in `BEGIN … COMMIT`, as the app's unit of work does;
the asyncpg reference reads without a transaction (the least work) and writes in one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, Header, HTTPException, Query, Request
from redis.asyncio import Redis
from sqlalchemy import Integer, Table, and_, bindparam, exists, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uuid_utils.compat import uuid7

from app.messenger.models import Message as MessageRow
from app.messenger.models import Thread, ThreadParticipant
from app.messenger.schemas import MessageRead
from app.users.models import AuthSession, User
from app.users.schemas import UserRead
from bench.reference import _claims
from core.pagination import CursorPage
from core.platform.ratelimit.backend import GCRA_HIT
from core.platform.realtime.models import RealtimeEvent
from core.platform.requestlog.models import RequestLog


@dataclass(frozen=True)
class Blocks:
    """Which building blocks a rung adds to the reference."""

    db: str = "asyncpg"  # "asyncpg", "core" (SQLAlchemy Core) or "orm" (AsyncSession)
    redis: bool = False
    middlewares: int = 0
    log: bool = False
    pydantic: bool = False


RUNGS: dict[str, Blocks] = {
    "reference": Blocks(),
    "core": Blocks(db="core"),
    "orm": Blocks(db="orm"),
    "redis": Blocks(db="orm", redis=True),
    "middlewares": Blocks(db="orm", redis=True, middlewares=6),
    "log": Blocks(db="orm", redis=True, middlewares=6, log=True),
    "pydantic": Blocks(db="orm", redis=True, middlewares=6, log=True, pydantic=True),
}
LABELS = {
    "reference": "a reference (asyncpg)",
    "core": "b' + SQLAlchemy Core",
    "orm": "b + SQLAlchemy ORM",
    "redis": "c + Redis EVALSHA",
    "middlewares": "d + 6 ASGI middlewares",
    "log": "e + buffered request log",
    "pydantic": "f + pydantic response models",
}
"""How the bench report names each rung (the letters of bench/README.md's ladder)."""

USER_FIELDS: tuple[str, ...] = (
    "id",
    "created_at",
    "updated_at",
    "email",
    "full_name",
    "scopes",
    "is_active",
)
USER_FIELDS += ("email_verified",)
MESSAGE_FIELDS: tuple[str, ...] = (
    "id",
    "created_at",
    "updated_at",
    "thread_id",
    "seq",
    "author_id",
    "body",
)
MESSAGE_FIELDS += ("edited_at", "attachments")
ROW_DEFAULTS: Mapping[str, Any] = {"attachments": []}
"""Fields a message row has no column for: the app reads none when `attachment_count` is 0."""
MESSAGE_CREATED = "message.created"
RATE = (1, 1_000_000_000, 60_000_000)  # cost, emission and period (us): never limits
LOG_BATCH, LOG_INTERVAL, LOG_CAPACITY = 500, 2.0, 10_000  # the app's request-log defaults
POOL_SIZE = int(os.environ.get("REF_POOL_SIZE", "10"))

Row = Mapping[str, Any]
Page = tuple[list[Any], bool]


# -- the account check every route does --------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """The verified token: who, and which login session (`sid`)."""

    user_id: uuid.UUID
    session_id: uuid.UUID | None
    version: Any


def caller_of(claims: Mapping[str, Any]) -> Caller:
    try:
        sid = uuid.UUID(claims["sid"]) if "sid" in claims else None
        return Caller(uuid.UUID(claims["sub"]), sid, claims.get("ver"))
    except ValueError as exc:
        raise HTTPException(401, "invalid token") from exc


def check_account(caller: Caller, user: Any, found: Any, revoked: Any) -> None:
    """The app's revocation check: live, active, same token version, session not logged out."""
    if (
        user is None
        or _get(user, "deleted_at") is not None
        or not _get(user, "is_active")
        or _get(user, "token_version") != caller.version
        or (caller.session_id is not None and (found is None or revoked is not None))
    ):
        raise HTTPException(401, "invalid token")


def _get(obj: Any, name: str) -> Any:
    if not isinstance(obj, Mapping | asyncpg.Record):
        return getattr(obj, name)
    return obj.get(name, ROW_DEFAULTS[name]) if name in ROW_DEFAULTS else obj[name]


def fields(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A row or an ORM instance as a plain dict (what FastAPI serialises without a model)."""
    return {name: _get(obj, name) for name in names}


def frame(message: dict[str, Any]) -> str:
    """The `message.created` event as the socket sends it (stored in `realtime_events`)."""
    data = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in message.items()}
    thread = str(message["thread_id"])
    body: dict[str, Any] = {"type": MESSAGE_CREATED, "stream": f"threads:{thread}"}
    body["thread_id"] = thread
    body |= {"seq": message["seq"], "data": data}
    return json.dumps(body, separators=(",", ":"), default=str)


def encode_cursor(last: Any) -> str:
    key = [_get(last, "created_at").isoformat(), str(_get(last, "id"))]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        at, key = json.loads(base64.urlsafe_b64decode(cursor))
        return datetime.fromisoformat(at), uuid.UUID(key)
    except ValueError as exc:
        raise HTTPException(422, "invalid cursor") from exc


# -- the statements, three ways ----------------------------------------------------------------

SQL_ME = (
    "SELECT users.*, auth_sessions.revoked_at, auth_sessions.id AS session_id FROM users "
    "LEFT JOIN auth_sessions ON auth_sessions.id = $2 AND auth_sessions.user_id = users.id "
    "WHERE users.id = $1"
)
SQL_VISIBLE = (
    "threads.deleted_at IS NULL AND EXISTS (SELECT * FROM users_and_threads "
    "WHERE users_and_threads.thread_id = threads.id AND users_and_threads.user_id = $2 "
    "AND users_and_threads.deleted_at IS NULL)"
)
SQL_THREAD = f"SELECT threads.* FROM threads WHERE threads.id = $1 AND {SQL_VISIBLE} LIMIT 1"  # noqa: S608
SQL_PAGE = (
    "SELECT messages.* FROM messages WHERE messages.deleted_at IS NULL AND messages.thread_id "  # noqa: S608
    f"IN (SELECT threads.id FROM threads WHERE {SQL_VISIBLE}) AND messages.thread_id = $1 "
    "{after}ORDER BY messages.created_at DESC, messages.id DESC LIMIT $3"
)
SQL_AFTER = "AND (messages.created_at, messages.id) < ($4, $5) "
SQL_WRITE = (
    "UPDATE threads SET event_seq = threads.event_seq + 1, updated_at = $2 "
    "WHERE threads.id = $1 RETURNING threads.event_seq",
    "INSERT INTO messages (thread_id, seq, author_id, body, edited_at, updated_at, deleted_at, "
    "id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    "UPDATE threads SET last_message_at = $1, last_activity_at = $1, updated_at = $2 "
    "WHERE threads.id = $3",
    "UPDATE users_and_threads SET last_read_seq = $1, updated_at = $2 WHERE "
    "users_and_threads.thread_id = $3 AND users_and_threads.user_id = $4 AND "
    "users_and_threads.deleted_at IS NULL AND users_and_threads.last_read_seq < $1",
    "INSERT INTO realtime_events (kind, stream_id, seq, type, frame, id, created_at) "
    "VALUES ('threads', $1, $2, $3, $4, $5, $6)",
    "SELECT users_and_threads.user_id FROM users_and_threads "
    "WHERE users_and_threads.deleted_at IS NULL AND users_and_threads.thread_id = $1",
)

# The app's own statement (app/users/repository.py: ACCOUNT_AND_SESSION), built once.
ORM_ME = (
    select(User, AuthSession.revoked_at, AuthSession.id)
    .outerjoin(
        AuthSession, and_(AuthSession.id == bindparam("sid"), AuthSession.user_id == User.id)
    )
    .where(User.id == bindparam("uid"))
)


CORE_ME = (
    select(*User.__table__.c, AuthSession.revoked_at, AuthSession.id.label("session_id"))
    .select_from(User.__table__)
    .outerjoin(
        AuthSession.__table__,
        and_(AuthSession.id == bindparam("sid"), AuthSession.user_id == User.id),
    )
    .where(User.id == bindparam("uid"))
)


@dataclass(frozen=True)
class Statements:
    """The app's statements for a page and a post, built once; each request binds `uid`,
    `tid` and the rest (as app/users/repository.py does for the account; the app's controllers build
    theirs per request, so that cost shows in the last step of the ladder, not in b)."""

    account: Any
    thread: Any  # visible to the caller: ThreadController.scope
    locked: Any  # the same, FOR UPDATE OF threads: Parent(lock_on_create=True)
    page: Any  # newest first, limit + 1 rows
    page_after: Any  # the same after a cursor: (created_at, id) < (at, key)
    next_seq: Any  # core.platform.realtime.next_seq (the thread's counter column)
    activity: Any  # the thread's last_message_at / last_activity_at
    read_marker: Any  # ParticipantRepository.mark_read
    members: Any  # the THREADS stream's audience


def statements(thread: Any, part: Any, message: Any, account: Any) -> Statements:
    """The statements over ORM entities (`Thread`, ...) or their tables (`Thread.__table__`)."""
    t, p, m = (x.c if isinstance(x, Table) else x for x in (thread, part, message))
    at = bindparam("at", type_=m.created_at.type)
    member = exists().where(
        p.thread_id == t.id, p.user_id == bindparam("uid"), p.deleted_at.is_(None)
    )
    visible = and_(t.deleted_at.is_(None), member)
    one = select(thread).where(t.id == bindparam("tid"), visible).limit(1)
    page = select(message).where(
        m.deleted_at.is_(None),
        m.thread_id.in_(select(t.id).where(visible)),
        m.thread_id == bindparam("tid"),
    )
    order = (m.created_at.desc(), m.id.desc())
    after = tuple_(m.created_at, m.id) < tuple_(at, bindparam("key", type_=m.id.type))
    limit = bindparam("n", type_=Integer)
    now = bindparam("now", type_=t.updated_at.type)
    seq = bindparam("seq", type_=p.last_read_seq.type)
    return Statements(
        account=account,
        thread=one,
        locked=one.with_for_update(of=thread),
        page=page.order_by(*order).limit(limit),
        page_after=page.where(after).order_by(*order).limit(limit),
        next_seq=update(thread)
        .where(t.id == bindparam("tid"))
        .values(event_seq=t.event_seq + 1)
        .returning(t.event_seq),
        activity=update(thread)
        .where(t.id == bindparam("tid"))
        .values(last_message_at=at, last_activity_at=at, updated_at=now),
        read_marker=update(part)
        .where(
            p.thread_id == bindparam("tid"),
            p.user_id == bindparam("uid"),
            p.deleted_at.is_(None),
            p.last_read_seq < seq,
        )
        .values(last_read_seq=seq, updated_at=now),
        members=select(p.user_id).where(p.deleted_at.is_(None), p.thread_id == bindparam("tid")),
    )


class AsyncpgStore:
    """The reference: asyncpg statements on a pool."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, max_size=POOL_SIZE, init=self._init)

    @staticmethod
    async def _init(connection: asyncpg.Connection) -> None:
        # JSON columns decoded, as SQLAlchemy's asyncpg dialect does.
        await connection.set_type_codec(
            "json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )

    async def close(self) -> None:
        await self.pool.close()

    async def me(self, caller: Caller) -> Any:
        row = await self.pool.fetchrow(SQL_ME, caller.user_id, caller.session_id)
        check_account(caller, row, row and row["session_id"], row and row["revoked_at"])
        return row

    async def page(self, caller: Caller, thread_id: uuid.UUID, limit: int, after: Any) -> Page:
        async with self.pool.acquire() as connection:
            await self._account(connection, caller)
            if await connection.fetchrow(SQL_THREAD, thread_id, caller.user_id) is None:
                raise HTTPException(404, "no such thread")
            args: list[Any] = [thread_id, caller.user_id, limit + 1]
            sql = SQL_PAGE.format(after=SQL_AFTER if after else "")
            rows = await connection.fetch(sql, *args, *(after or ()))
        return list(rows[:limit]), len(rows) > limit

    async def post(self, caller: Caller, thread_id: uuid.UUID, body: str) -> dict[str, Any]:
        seq_sql, insert_message, activity, read, insert_event, members_sql = SQL_WRITE
        async with self.pool.acquire() as connection, connection.transaction():
            await self._account(connection, caller)
            thread = await connection.fetchrow(
                SQL_THREAD + " FOR UPDATE OF threads", thread_id, caller.user_id
            )
            if thread is None:
                raise HTTPException(404, "no such thread")
            seq = await connection.fetchval(seq_sql, thread_id, datetime.now(UTC))
            now = datetime.now(UTC)
            message = {"id": uuid7(), "created_at": now, "updated_at": now}
            message |= {"thread_id": thread_id, "seq": seq, "author_id": caller.user_id}
            message |= {"body": body, "edited_at": None}
            await connection.execute(
                insert_message, thread_id, seq, caller.user_id, body, None, now, None,
                message["id"], now,
            )  # fmt: skip
            await connection.execute(activity, now, datetime.now(UTC), thread_id)
            await connection.execute(read, seq, datetime.now(UTC), thread_id, caller.user_id)
            await connection.execute(
                insert_event, thread_id, seq, MESSAGE_CREATED, frame(message), uuid7(),
                datetime.now(UTC),
            )  # fmt: skip
            await connection.fetch(members_sql, thread_id)
        return message

    async def _account(
        self, connection: asyncpg.pool.PoolConnectionProxy[asyncpg.Record], caller: Caller
    ) -> None:
        row = await connection.fetchrow(SQL_ME, caller.user_id, caller.session_id)
        check_account(caller, row, row and row["session_id"], row and row["revoked_at"])


class CoreStore:
    """SQLAlchemy Core: the app's tables and statements on an `AsyncEngine`, rows as mappings."""

    sql = statements(Thread.__table__, ThreadParticipant.__table__, MessageRow.__table__, CORE_ME)

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        await self.engine.dispose()

    async def me(self, caller: Caller) -> Any:
        async with self.engine.begin() as connection:
            return await self._account(connection, caller)

    async def page(self, caller: Caller, thread_id: uuid.UUID, limit: int, after: Any) -> Page:
        sql, ids = self.sql, {"uid": caller.user_id, "tid": thread_id}
        async with self.engine.begin() as connection:
            await self._account(connection, caller)
            if (await connection.execute(sql.thread, ids)).first() is None:
                raise HTTPException(404, "no such thread")
            stmt, params = _page(sql, ids, limit, after)
            rows = (await connection.execute(stmt, params)).mappings().all()
        return list(rows[:limit]), len(rows) > limit

    async def post(self, caller: Caller, thread_id: uuid.UUID, body: str) -> dict[str, Any]:
        sql, ids = self.sql, {"uid": caller.user_id, "tid": thread_id}
        async with self.engine.begin() as connection:
            await self._account(connection, caller)
            if (await connection.execute(sql.locked, ids)).first() is None:
                raise HTTPException(404, "no such thread")
            seq = (await connection.execute(sql.next_seq, ids)).scalar_one()
            now = datetime.now(UTC)
            message = {"id": uuid7(), "created_at": now, "updated_at": now}
            message |= {"thread_id": thread_id, "seq": seq, "author_id": caller.user_id}
            message |= {"body": body, "edited_at": None}
            await connection.execute(insert(MessageRow), {**message, "deleted_at": None})
            moment = {"at": now, "now": datetime.now(UTC)}
            await connection.execute(sql.activity, {**ids, **moment})
            await connection.execute(sql.read_marker, {**ids, **moment, "seq": seq})
            event = {"id": uuid7(), "created_at": datetime.now(UTC), "kind": "threads"}
            event |= {"stream_id": thread_id, "seq": seq, "type": MESSAGE_CREATED}
            event["frame"] = frame(message)
            await connection.execute(insert(RealtimeEvent), event)
            (await connection.execute(sql.members, ids)).all()
        return message

    async def _account(self, connection: Any, caller: Caller) -> Any:
        params = {"uid": caller.user_id, "sid": caller.session_id}
        row = (await connection.execute(CORE_ME, params)).mappings().one_or_none()
        check_account(caller, row, row and row["session_id"], row and row["revoked_at"])
        return row


def _page(
    sql: Statements, ids: dict[str, Any], limit: int, after: tuple[datetime, uuid.UUID] | None
) -> tuple[Any, dict[str, Any]]:
    if after is None:
        return sql.page, {**ids, "n": limit + 1}
    return sql.page_after, {**ids, "n": limit + 1, "at": after[0], "key": after[1]}


class OrmStore(CoreStore):
    """The ORM: one `AsyncSession` per request, entities out, `session.add` + flush in."""

    sql = statements(Thread, ThreadParticipant, MessageRow, ORM_ME)

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def me(self, caller: Caller) -> Any:
        async with self.sessions() as session, session.begin():
            return await self._orm_account(session, caller)

    async def page(self, caller: Caller, thread_id: uuid.UUID, limit: int, after: Any) -> Page:
        sql, ids = self.sql, {"uid": caller.user_id, "tid": thread_id}
        async with self.sessions() as session, session.begin():
            await self._orm_account(session, caller)
            if await session.scalar(sql.thread, ids) is None:
                raise HTTPException(404, "no such thread")
            rows = (await session.scalars(*_page(sql, ids, limit, after))).all()
        return list(rows[:limit]), len(rows) > limit

    async def post(self, caller: Caller, thread_id: uuid.UUID, body: str) -> Any:
        sql, ids = self.sql, {"uid": caller.user_id, "tid": thread_id}
        async with self.sessions() as session, session.begin():
            await self._orm_account(session, caller)
            thread = await session.scalar(sql.locked, ids)
            if thread is None:
                raise HTTPException(404, "no such thread")
            seq = int(await session.scalar(sql.next_seq, ids) or 0)
            message = MessageRow(thread_id=thread_id, seq=seq, author_id=caller.user_id, body=body)
            session.add(message)
            await session.flush()
            thread.last_message_at = thread.last_activity_at = message.created_at
            thread.updated_at = datetime.now(UTC)
            await session.flush()
            await session.execute(sql.read_marker, {**ids, "seq": seq, "now": datetime.now(UTC)})
            text = frame(fields(message, MESSAGE_FIELDS))
            session.add(
                RealtimeEvent(
                    kind="threads", stream_id=thread_id, seq=seq, type=MESSAGE_CREATED, frame=text
                )
            )
            await session.flush()
            (await session.scalars(sql.members, ids)).all()
        return message

    async def _orm_account(self, session: Any, caller: Caller) -> Any:
        params = {"uid": caller.user_id, "sid": caller.session_id}
        row = (await session.execute(ORM_ME, params)).one_or_none()
        user, revoked, found = row if row is not None else (None, None, None)
        check_account(caller, user, found, revoked)
        return user


Store = AsyncpgStore | CoreStore


def make_store(blocks: Blocks, dsn: str) -> Store:
    if blocks.db == "asyncpg":
        return AsyncpgStore(dsn)
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url, pool_size=POOL_SIZE, max_overflow=0, pool_pre_ping=False)
    return OrmStore(engine) if blocks.db == "orm" else CoreStore(engine)


# -- the other building blocks -----------------------------------------------------------------


class PassThrough:
    """A pure-ASGI middleware that does nothing: what a layer costs by itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class RequestLogBuffer:
    """Rows waiting to be written: appended per request, taken in batches."""

    def __init__(self) -> None:
        self.rows: deque[dict[str, Any]] = deque()
        self.ready = asyncio.Event()

    def add(self, row: dict[str, Any]) -> None:
        if len(self.rows) < LOG_CAPACITY:
            self.rows.append(row)
        if len(self.rows) >= LOG_BATCH:
            self.ready.set()

    def take(self) -> list[dict[str, Any]]:
        batch = [self.rows.popleft() for _ in range(min(len(self.rows), LOG_BATCH))]
        if len(self.rows) < LOG_BATCH:
            self.ready.clear()
        return batch

    async def write(self, engine: AsyncEngine) -> None:
        """Flush by size or interval, until cancelled (then write what is left)."""
        try:
            while True:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.ready.wait(), LOG_INTERVAL)
                await self._insert(engine, self.take())
        finally:
            while self.rows:
                await self._insert(engine, self.take())

    @staticmethod
    async def _insert(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
        if rows:
            async with engine.begin() as connection:
                await connection.execute(insert(RequestLog), rows)


class RequestLogMiddleware:
    """One row per request (time, method, route template, status, duration, user, client ip,
    request id) appended to the buffer after the response; the database is never awaited."""

    def __init__(self, app: ASGIApp, buffer: Callable[[], RequestLogBuffer]) -> None:
        self.app = app
        self.buffer = buffer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at, started, status = datetime.now(UTC), time.perf_counter(), 500
        scope.setdefault("state", {})["request_id"] = uuid.uuid4().hex

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            state, client = scope["state"], scope.get("client")
            self.buffer().add(
                {
                    "id": uuid7(),
                    "created_at": started_at,
                    "method": scope["method"],
                    "route": getattr(scope.get("route"), "path", scope["path"]),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "user_id": state.get("user_id"),
                    "client_ip": client[0] if client else None,
                    "request_id": state["request_id"],
                }
            )


# -- the app -----------------------------------------------------------------------------------


def create_app(rung: str) -> FastAPI:
    """The ladder app for `rung` (a key of RUNGS), configured from the environment."""
    blocks = RUNGS[rung]
    store = make_store(blocks, os.environ["REF_DSN"])
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.open()
        if blocks.redis:
            state["redis"] = Redis.from_url(os.environ["LADDER_REDIS_URL"])
            state["limit"] = state["redis"].register_script(GCRA_HIT)
        writer = None
        if blocks.log and isinstance(store, CoreStore):
            writer = asyncio.create_task(state["log"].write(store.engine))
        yield
        if writer is not None:
            writer.cancel()
            with suppress(asyncio.CancelledError):
                await writer
        if blocks.redis:
            await state["redis"].aclose()
        await store.close()

    app = FastAPI(lifespan=lifespan)
    for _ in range(blocks.middlewares):
        app.add_middleware(PassThrough)
    if blocks.log:
        state["log"] = RequestLogBuffer()
        app.add_middleware(RequestLogMiddleware, buffer=lambda: state["log"])

    async def verify(request: Request, authorization: str | None) -> Caller:
        caller = caller_of(_claims(authorization))
        if blocks.redis:
            await state["limit"](keys=[f"plinth:rl:user:{caller.user_id}"], args=list(RATE))
        if blocks.log:
            request.state.user_id = caller.user_id
        return caller

    me_model: Any = UserRead if blocks.pydantic else dict[str, Any]
    page_model: Any = CursorPage[MessageRead] if blocks.pydantic else dict[str, Any]
    message_model: Any = MessageRead if blocks.pydantic else dict[str, Any]

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "rung": rung}

    @app.get("/me", response_model=me_model)
    async def me(request: Request, authorization: Annotated[str | None, Header()] = None) -> Any:
        user = await store.me(await verify(request, authorization))
        return user if blocks.pydantic else fields(user, USER_FIELDS)

    @app.get("/threads/{thread_id}/messages", response_model=page_model)
    async def messages(
        request: Request,
        thread_id: uuid.UUID,
        authorization: Annotated[str | None, Header()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        cursor: str | None = None,
    ) -> Any:
        caller = await verify(request, authorization)
        rows, more = await store.page(caller, thread_id, limit, decode_cursor(cursor))
        items = rows if blocks.pydantic else [fields(r, MESSAGE_FIELDS) for r in rows]
        next_cursor = encode_cursor(rows[-1]) if more else None
        return {"items": items, "next_cursor": next_cursor, "has_more": more}

    @app.post("/threads/{thread_id}/messages", response_model=message_model, status_code=201)
    async def post(
        request: Request,
        thread_id: uuid.UUID,
        body: dict[str, Any],
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        caller = await verify(request, authorization)
        text = body.get("body")
        if not isinstance(text, str) or not 1 <= len(text.strip()) <= 4000:
            raise HTTPException(422, "body: 1 to 4000 characters")
        message = await store.post(caller, thread_id, text.strip())
        return (
            message
            if blocks.pydantic or isinstance(message, dict)
            else fields(message, MESSAGE_FIELDS)
        )

    return app


def __getattr__(name: str) -> Any:
    """`uvicorn bench.ladder:app` builds the rung named by LADDER_RUNG (on first access)."""
    if name == "app":
        return create_app(os.environ.get("LADDER_RUNG", "reference"))
    raise AttributeError(name)
