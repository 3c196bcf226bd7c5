"""Streams: ordered, resumable events for any entity, sent to exactly the users allowed to see
it, over the one event-stream socket.

Declare a kind of stream once, with its audience (a statement of user ids), then emit from
the controller's `written` hook:

    PROJECTS = StreamKind(
        "projects",
        audience=lambda project_id: select(Member.user_id).where(Member.project_id == project_id),
    )

    class TaskController(BaseController[Task, TaskCreate, TaskUpdate]):
        async def written(self, action: Action, obj: Task) -> None:
            data = TaskRead.model_validate(obj)
            await emit(self, PROJECTS(obj.project_id), f"task.{action}", data)

What each part guarantees, and why it is built this way:

- **Order.** Every kept event gets its stream's next `seq` (1, 2, 3, …) from a counter row
  that the write locks until commit: `realtime_streams` (an upsert), or a column of the
  entity's own row (`counter=`, one statement fewer where the row is locked anyway). Ids are
  therefore committed in order and without holes; a rolled-back write takes none.
- **Outbox.** The frame (JSON text, serialised once) goes into `realtime_events` in the
  caller's transaction and is published by `after_commit`: a rolled-back write keeps and sends
  nothing, and what was sent can always be read again. No table of the entity's own is needed.
- **Audience.** `audience(stream_id)` is evaluated in the writing transaction, so a user who
  loses access stops receiving at the commit that removed them; the same statement decides
  who may resume or gap-fill (`since`, which may also say from which `seq` on, e.g. from a
  member's joining). Revocation of the login itself is the hub's sweep (`Revalidator`).
- **Resume and gap-fill.** A ticket carries `{stream key: last seq}`; before `ready`, the
  socket gets the kept events after each (or a `reset` frame when too many were missed or
  retention purged them). `read_events` serves the same events over HTTP for a gap.

The wire shape of an event: `{"type", "stream": "<kind>:<id>", "seq", "data"}` (plus
`<id_field>: id` when the kind names one); ephemeral events have `seq: null`.
"""

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property, partial
from typing import Any, Protocol, cast

from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Select,
    Table,
    Uuid,
    bindparam,
    delete,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Mapper
from sqlalchemy.orm.attributes import set_committed_value

from core.db import Database, new_id, utcnow
from core.errors import InvalidInput, NotFound, field_error
from core.platform.realtime.connection import Connection
from core.platform.realtime.models import KIND_LENGTH, RealtimeEvent, RealtimeStream
from core.platform.realtime.protocol import HUB_KEY, frame
from core.service import SessionBound, UnitOfWork

Audience = Callable[[uuid.UUID], Select[uuid.UUID]]
"""The user ids that receive a stream's events, given the stream's id."""
Since = Callable[[uuid.UUID, uuid.UUID], Select[int]]
"""Given a stream id and a user id: one row with the seq after which the user may read the
stream's kept events (0: all of them), or no row when the user may not read it."""

_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")


class UnknownStream(ValueError):
    """A stream key naming a kind nobody declared."""


_kinds: dict[str, "StreamKind"] = {}
_bare: list["StreamKind"] = []
_events = cast(Table, RealtimeEvent.__table__)
_streams = cast(Table, RealtimeStream.__table__)
_ID, _KIND, _VALUE = "realtime_stream_id", "realtime_stream_kind", "realtime_value_"
"""Names of the bound parameters in the statements built once (`_counter_bump`, …)."""


class Publisher(Protocol):
    """What `emit` hands a committed frame to (the hub)."""

    async def publish(
        self,
        recipients: Iterable[uuid.UUID],
        text: str,
        *,
        key: str | None = None,
        seq: int | None = None,
    ) -> None: ...


class StreamKind:
    """A kind of stream, declared once at import time (like a model): `StreamKind("projects",
    audience=...)`; `kind(id)` is one of its streams.

    Args:
        name: the kind's name in stream keys (`projects:<id>`): lowercase, no colon, unique.
        audience: the user ids that receive the events of stream `id` — evaluated in the
            writing transaction, so access lost there stops delivery at that commit. Called
            once with a bound parameter for `id` (see `audience_of`): a statement that compares
            `id` in SQL is built once; one that needs its value in Python, for each id.
        since: who may read kept events (resume, gap-fill), and from which seq on. Default:
            the audience, from the first event.
        counter: an integer column of the entity's own row (keyed by `id`) holding its
            latest seq, bumped under that row's lock; default: a `realtime_streams` row.
        id_field: also put the stream's id in every frame under this name (`project_id`).
        bare_ids: a ticket's `resume` key that is a bare `<id>` means this kind's stream
            (clients from before stream keys had kinds: the threads'). One kind at most.
    """

    def __init__(
        self,
        name: str,
        *,
        audience: Audience,
        since: Since | None = None,
        counter: InstrumentedAttribute[int] | None = None,
        id_field: str | None = None,
        bare_ids: bool = False,
    ) -> None:
        if not _NAME.match(name) or len(name) > KIND_LENGTH:
            raise ValueError(f"a stream kind is lowercase letters, digits, _ . - : {name!r}")
        if name in _kinds:
            raise ValueError(f"the stream kind {name!r} is declared twice")
        if bare_ids and _bare:
            raise ValueError(f"bare ids already mean {_bare[0]!r}: {name!r} cannot take them")
        self.name, self.audience, self.counter, self.id_field = name, audience, counter, id_field
        self._since = since
        _kinds[name] = self
        if bare_ids:
            _bare.append(self)

    def __call__(self, stream_id: uuid.UUID) -> "Stream":
        return Stream(self, stream_id)

    def audience_of(self, stream_id: uuid.UUID) -> tuple[Select[uuid.UUID], dict[str, Any]]:
        """The audience statement of stream `stream_id` and its parameters: built once around a
        bound parameter standing for the id when the declared audience compares it in SQL (it
        is then not rebuilt and rehashed per event), else built for this id."""
        shared = self._shared_audience
        if shared is None:
            return self.audience(stream_id), {}
        return shared, {_ID: stream_id}

    @cached_property
    def _shared_audience(self) -> Select[uuid.UUID] | None:
        placeholder: Any = bindparam(_ID)  # takes the type of the column it is compared with
        try:
            statement = self.audience(placeholder)
            used = _ID in statement.compile().binds
        except Exception:  # an audience that needs a real id is built per id
            return None
        return statement if used else None

    def __repr__(self) -> str:
        return f"StreamKind({self.name!r})"

    def since(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> Select[int]:
        """The statement `Since` describes (the declared one, or "in the audience: all")."""
        if self._since is not None:
            return self._since(stream_id, user_id)
        members = self.audience(stream_id)
        return select(literal(0, BigInteger)).where(literal(user_id, Uuid()).in_(members))

    def current(self, stream_id: uuid.UUID) -> Select[int]:
        """The stream's latest seq (no row: nothing was emitted yet)."""
        if self.counter is not None:
            table = self.counter.class_.__table__
            return select(self.counter).where(table.c.id == stream_id)
        s = RealtimeStream
        return select(s.seq).where(s.kind == self.name, s.stream_id == stream_id)


@dataclass(frozen=True, slots=True)
class Stream:
    """One stream: a kind and the id of the entity it follows."""

    kind: StreamKind
    id: uuid.UUID

    @property
    def key(self) -> str:
        """`<kind>:<id>`: the `stream` of its frames and the key of a ticket's `resume`."""
        return f"{self.kind.name}:{self.id}"


def stream_kind(name: str) -> StreamKind | None:
    """The declared kind called `name`, if any."""
    return _kinds.get(name)


def bare_id_kind() -> StreamKind | None:
    """The kind declared with `bare_ids=True`, if any."""
    return _bare[0] if _bare else None


def parse_stream(key: str, *, default: StreamKind | None = None) -> Stream:
    """The stream of a key `<kind>:<id>` (a bare `<id>` is a stream of `default`); `ValueError`
    for a malformed key or an undeclared kind."""
    name, sep, raw_id = key.rpartition(":")
    kind = stream_kind(name) if sep else default
    if kind is None:
        if sep:
            raise UnknownStream(f"no stream kind {name!r}")
        raise ValueError("a stream key is <kind>:<id>")
    return Stream(kind, uuid.UUID(raw_id))


def resume_positions(
    resume: Mapping[str, int], *, default: StreamKind | None = None
) -> dict[str, int]:
    """A ticket's `resume` with every key checked and written `<kind>:<id>` (a bare `<id>` is
    a stream of `default`, else of the kind declared with `bare_ids`); an `InvalidInput`
    (422) names each bad key (`["body", "resume", key]`)."""
    default = default or bare_id_kind()
    positions, errors = {}, []
    for key, seq in resume.items():
        try:
            positions[parse_stream(key, default=default).key] = seq
        except ValueError as exc:
            errors.append(field_error(["body", "resume", key], f"Not a stream key: {exc}."))
    if errors:
        raise InvalidInput("Some resume keys are not streams you can follow.", errors=errors)
    return positions


# -- writing ---------------------------------------------------------------------------------


def _session_of(owner: SessionBound | AsyncSession) -> AsyncSession:
    return owner if isinstance(owner, AsyncSession) else owner.session


def event_frame(stream: Stream, type_: str, seq: int | None, data: Any) -> str:
    """One event as the JSON text the socket sends (and `realtime_events` keeps)."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    body: dict[str, Any] = {"type": type_, "stream": stream.key}
    if stream.kind.id_field:
        body[stream.kind.id_field] = str(stream.id)
    body |= {"seq": seq, "data": data}
    return json.dumps(body, separators=(",", ":"), default=str)


async def next_seq(
    owner: SessionBound | AsyncSession, stream: Stream, *, values: Mapping[str, Any] | None = None
) -> int:
    """Take the stream's next seq; its counter row stays locked until commit, so seqs are
    committed in order and without holes. Call it yourself only when the seq must be stored
    with the change too (a message's `seq`); `emit` takes one otherwise.

    With a `counter` column, `values` (attribute name → value) are set on the entity's row in
    the same `UPDATE` (e.g. its latest activity), and a copy of that row loaded in the session
    sees them and the new seq without a reload; a kind without a counter refuses them."""
    session, counter, values = _session_of(owner), stream.kind.counter, values or {}
    if counter is None and values:
        raise TypeError(f"{stream.kind!r} has no counter column to set values beside")
    if counter is None:
        params = {_KIND: stream.kind.name, _ID: stream.id}
        seq = await session.scalar(_stream_row_bump(session.get_bind().dialect.name), params)
    else:
        params = {_ID: stream.id} | {_VALUE + name: value for name, value in values.items()}
        bump = _counter_bump(cast(type, counter.class_), counter.key, tuple(values))
        seq = await session.scalar(bump, params)
    if seq is None:
        raise LookupError(f"no row for the counter of {stream.key}")
    if counter is not None:
        _keep_loaded_row_in_step(session, counter, stream.id, {**values, counter.key: seq})
    return int(seq)


# The write path's statements are built once, with bound parameters, and cached: a statement
# object keeps its compiled form's cache key, so a post does not rebuild and rehash them.
_INSERT_EVENT = insert(_events)


@cache
def _counter_bump(entity: type, counter: str, names: tuple[str, ...]) -> Any:
    """`UPDATE <entity> SET <counter> = <counter> + 1, <names…> WHERE id = … RETURNING
    <counter>`: on the table, so the ORM synchronises nothing (see `_keep_loaded_row_in_step`).
    Parameters: the row's id (`_ID`) and each of `names` (`_VALUE + name`)."""
    mapper: Mapper[Any] = inspect(entity)
    column = mapper.columns[counter]
    assignments = {
        mapper.columns[name]: bindparam(_VALUE + name, type_=mapper.columns[name].type)
        for name in names
    }
    row_id = bindparam(_ID, type_=column.table.c.id.type)
    return (
        update(column.table)
        .where(column.table.c.id == row_id)
        .values({column: column + 1, **assignments})
        .returning(column)
    )


@cache
def _stream_row_bump(dialect: str) -> Any:
    """The upsert of a stream's `realtime_streams` row, returning its new seq. Parameters: the
    kind's name (`_KIND`) and the stream's id (`_ID`)."""
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        upsert(_streams)
        .values(
            kind=bindparam(_KIND, type_=_streams.c.kind.type),
            stream_id=bindparam(_ID, type_=_streams.c.stream_id.type),
            seq=1,
        )
        .on_conflict_do_update(
            index_elements=[_streams.c.kind, _streams.c.stream_id],
            set_={"seq": _streams.c.seq + 1},
        )
        .returning(_streams.c.seq)
    )


def _keep_loaded_row_in_step(
    session: AsyncSession,
    counter: InstrumentedAttribute[int],
    row_id: uuid.UUID,
    values: Mapping[str, Any],
) -> None:
    """Give the entity's row, if loaded in the session, the values just written, as read from
    the database (nothing to flush)."""
    key = inspect(counter.class_).identity_key_from_primary_key((row_id,))
    obj = session.sync_session.identity_map.get(key)
    if obj is not None:
        for name, value in values.items():
            set_committed_value(obj, name, value)


async def audience(owner: SessionBound | AsyncSession, stream: Stream) -> set[uuid.UUID]:
    """Who receives the stream's events now: in this transaction, its pending changes flushed
    first (a member added in the same write receives it)."""
    session = _session_of(owner)
    if session.new or session.dirty or session.deleted:
        await session.flush()
    statement, params = stream.kind.audience_of(stream.id)
    return set((await session.scalars(statement, params)).all())


async def emit(
    owner: SessionBound | AsyncSession,
    stream: Stream,
    type_: str,
    data: Any,
    *,
    seq: int | None = None,
    also: Iterable[uuid.UUID] = (),
) -> int:
    """Keep an event of `stream` in this unit of work and, once it commits, send it to the
    stream's audience (as it is in this transaction) and to `also` (e.g. a member just
    removed, who should see their removal). `owner` is a controller or service (or a session
    in a unit of work); `data` a schema or plain JSON data; `seq` one taken with `next_seq`.
    Returns the event's seq."""
    session = _session_of(owner)
    if seq is None:
        seq = await next_seq(session, stream)
    text = event_frame(stream, type_, seq, data)
    row = {"id": new_id(), "created_at": utcnow(), "kind": stream.kind.name}
    row |= {"stream_id": stream.id, "seq": seq, "type": type_, "frame": text}
    await session.execute(_INSERT_EVENT, row)
    recipients = await audience(session, stream) | set(also)
    _publish_after_commit(session, recipients, text, stream.key, seq)
    return seq


async def emit_ephemeral(
    owner: SessionBound | AsyncSession,
    stream: Stream,
    type_: str,
    data: Any,
    *,
    exclude: uuid.UUID | None = None,
) -> None:
    """An event that is neither kept nor numbered (`seq: null`: typing, presence, read
    markers), sent after commit to the audience except `exclude`."""
    session = _session_of(owner)
    recipients = await audience(session, stream) - {exclude}
    text = event_frame(stream, type_, None, data)
    _publish_after_commit(session, recipients, text, None, None)


def _publish_after_commit(
    session: AsyncSession, recipients: set[Any], text: str, key: str | None, seq: int | None
) -> None:
    hub: Publisher | None = session.info.get(HUB_KEY)
    if hub is not None and recipients:
        publish = partial(hub.publish, sorted(recipients), text, key=key, seq=seq)
        UnitOfWork.of(session).after_commit(publish)


# -- reading: gap-fill and resume -------------------------------------------------------------


class StreamPage(BaseModel):
    """Kept events of one stream after a seq, oldest first."""

    items: list[dict[str, Any]] = Field(description="Events exactly as the socket sent them.")
    has_more: bool = Field(description="More events follow: ask again after the last seq.")
    seq: int = Field(description="The stream's latest seq now.")


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What a user missed of one stream: the stream's `current` seq, the seq the kept `rows`
    follow (`start`) and those rows (`(seq, frame)`, at most the limit + 1)."""

    stream: Stream
    start: int
    current: int
    rows: Sequence[tuple[int, str]]

    @property
    def gap(self) -> bool:
        """Kept events are missing right after `start` (purged by retention)."""
        if self.rows:
            return self.rows[0][0] > self.start + 1
        return self.current > self.start


def _events_after(stream: Stream, after: int, limit: int) -> Select[int, str]:
    e = RealtimeEvent
    return (
        select(e.seq, e.frame)
        .where(e.kind == stream.kind.name, e.stream_id == stream.id, e.seq > after)
        .order_by(e.seq)
        .limit(limit)
    )


async def catch_up(
    session: AsyncSession, user_id: uuid.UUID, stream: Stream, after: int, limit: int
) -> CatchUp | None:
    """The kept events of `stream` after `after` that `user_id` may read (from the kind's
    `since` on), at most `limit` + 1 of them; None when the user may not read the stream."""
    kind = stream.kind
    position: Any = select(
        kind.since(stream.id, user_id).scalar_subquery(),
        kind.current(stream.id).scalar_subquery(),
    )
    since, current = (await session.execute(position)).one()
    if since is None:
        return None
    start = max(after, int(since))
    rows = (await session.execute(_events_after(stream, start, limit + 1))).all()
    return CatchUp(stream, start, int(current or 0), [(int(s), str(f)) for s, f in rows])


async def read_events(
    owner: SessionBound | AsyncSession, user_id: uuid.UUID, stream: Stream, after: int, limit: int
) -> StreamPage | None:
    """A page of kept events for a client filling a gap; None when the user may not read it.
    `owner` is a controller or service (or a session), as for `emit`."""
    found = await catch_up(_session_of(owner), user_id, stream, after, limit)
    if found is None:
        return None
    items = [json.loads(text) for _, text in found.rows[:limit]]
    return StreamPage(items=items, has_more=len(found.rows) > limit, seq=found.current)


class StreamReader(SessionBound):
    """Stream events over HTTP for the caller (`provide(StreamReader)` in a router)."""

    async def page(self, key: str, after: int, limit: int) -> StreamPage:
        """Events of the stream `key` after `after`; 404 for a stream the caller may not read
        (exactly as for one that does not exist), 422 for a malformed key."""
        try:
            stream = parse_stream(key)
        except UnknownStream as exc:
            raise NotFound("The stream does not exist.") from exc
        except ValueError as exc:
            raise InvalidInput(
                "Not a stream key.", errors=[field_error(["path", "stream"], str(exc))]
            ) from exc
        page = await read_events(self, self.me.id, stream, after, limit)
        if page is None:
            raise NotFound("The stream does not exist.")
        return page


async def replay_to(connection: Connection, catch_ups: Iterable[CatchUp], limit: int) -> None:
    """Send a new socket what it missed, or `{"type": "reset", "stream", "seq"}` for a stream
    too far behind or whose missed events were purged (the client reloads it, then goes on
    from `seq`); record the floors so live copies of replayed events are skipped."""
    for found in catch_ups:
        key = found.stream.key
        if len(found.rows) > limit or found.gap:
            fields: dict[str, Any] = {"stream": key}
            if found.stream.kind.id_field:
                fields[found.stream.kind.id_field] = str(found.stream.id)
            await connection.send_now(frame("reset", **fields, seq=found.current))
            connection.floors[key] = found.current
            continue
        for _, text in found.rows:
            await connection.send_now(text)
        connection.floors[key] = max([found.start, *(seq for seq, _ in found.rows)])


def stream_replayer(database: Database, limit: int) -> Callable[[Connection], Awaitable[None]]:
    """The hub's replay: the ticket's `resume` claim (`{stream key: last seq}`), each stream
    read in one unit of work and sent before `ready`."""

    async def replay(connection: Connection) -> None:
        resume: Mapping[str, Any] = connection.grant.claims.get("resume") or {}
        found: list[CatchUp] = []
        async with database.session(read_only=True) as session:
            for key, after in resume.items():
                try:
                    stream = parse_stream(key)
                except ValueError:
                    continue  # a kind this process does not declare
                caught = await catch_up(session, connection.grant.user_id, stream, after, limit)
                if caught is not None:
                    found.append(caught)
        await replay_to(connection, found, limit)

    return replay


# -- retention ---------------------------------------------------------------------------------


def first_id_at(moment: datetime) -> uuid.UUID:
    """The smallest UUIDv7 of `moment`: ids (`core.db.new_id`) below it were made before it."""
    return uuid.UUID(int=int(moment.timestamp() * 1000) << 80)


async def purge_events(session: AsyncSession, before: datetime) -> int:
    """Delete the kept events recorded before `before`; how many. Through the primary key (ids
    are UUIDv7, ordered by creation time): no index on `created_at`, no table scan."""
    stmt = delete(RealtimeEvent).where(RealtimeEvent.id < first_id_at(before))
    result: Any = await session.execute(stmt)
    return int(result.rowcount or 0)
