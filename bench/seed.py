"""Seed the benchmark database directly, after `alembic upgrade heads`: asyncpg COPY for users,
threads, participants and the 1k thread; one INSERT … SELECT over generate_series for the 1M
thread (PostgreSQL builds those rows itself, several times faster than sending them).

Column names come from the SQLAlchemy metadata: each table's rows are built for an explicit
column list that must equal the table's columns, so a model change breaks the seed loudly
instead of measuring a half-filled schema. Ids are UUIDv7-shaped and ordered like
`created_at`, which increases, as the app's own rows would be.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

import app.models  # noqa: F401 - registers every table on Base.metadata
from core.db import Base
from core.migrations import upgrade_async
from core.security import PasswordHasher

PASSWORD = "bench-password-1"  # a throwaway database on loopback
USER_COUNT = 10_000
LOGIN_USERS = 32
FILLER_THREADS = 100
FANOUT_USERS = 100
SMALL_THREAD_MESSAGES = 1_000
LARGE_THREAD_MESSAGES = 1_000_000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class SchemaDrift(RuntimeError):
    """The seed's columns no longer match the models: update bench/seed.py."""


@dataclass(frozen=True)
class SeededUser:
    id: uuid.UUID
    email: str


@dataclass(frozen=True)
class Seeded:
    """What the scenarios need to know about the seeded data."""

    password: str
    member: SeededUser  # regular user, creator of every bench thread
    admin: SeededUser
    login_users: list[SeededUser]
    small_thread: uuid.UUID
    large_thread: uuid.UUID
    write_thread: uuid.UUID
    fanout_users: list[SeededUser]  # regular users for the event-stream scenarios
    deep_key: tuple[datetime, uuid.UUID]  # (created_at, id) of a message half-way down the 1M
    users_total: int
    postgres_version: str
    seconds: dict[str, float]


def uuid7_at(moment: datetime, rand: random.Random) -> uuid.UUID:
    """A UUIDv7 for `moment` (millisecond timestamp, version 7, RFC 4122 variant, random)."""
    millis = int(moment.timestamp() * 1000)
    value = (millis << 80) | (0x7 << 76) | (rand.getrandbits(12) << 64)
    value |= (0b10 << 62) | rand.getrandbits(62)
    return uuid.UUID(int=value)


def columns(table: str, declared: Sequence[str]) -> tuple[str, ...]:
    """`declared`, checked against the model's columns (same names, none missing or extra)."""
    actual = set(Base.metadata.tables[table].columns.keys())
    if set(declared) != actual or len(declared) != len(actual):
        missing, extra = sorted(actual - set(declared)), sorted(set(declared) - actual)
        raise SchemaDrift(f"{table}: seed lacks {missing}, has unknown {extra}")
    return tuple(declared)


USER_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at",
    "email", "hashed_password", "full_name", "scopes", "is_active", "token_version",
    "email_verified",
)  # fmt: skip
THREAD_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at",
    "title", "created_by", "last_message_at", "last_activity_at", "event_seq", "organization_id",
)  # fmt: skip
PARTICIPANT_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at",
    "user_id", "thread_id", "role", "joined_at", "joined_seq", "last_read_seq",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at",
    "thread_id", "author_id", "body", "edited_at", "seq", "attachment_count",
)  # fmt: skip


def _user_rows(
    hashed: str, rand: random.Random
) -> tuple[list[tuple[object, ...]], dict[str, SeededUser]]:
    """10k users (all active, one shared hash), then the bench's own accounts, newest last."""
    rows: list[tuple[object, ...]] = []
    named: dict[str, SeededUser] = {}
    specials = [("member", ["regular"]), ("admin", ["admin"])]
    specials += [(f"login{i}", ["regular"]) for i in range(LOGIN_USERS)]
    for i in range(USER_COUNT):
        at = EPOCH + timedelta(seconds=i)
        rows.append(
            (uuid7_at(at, rand), at, at, None, f"user{i:05d}@bench.example", hashed,
             f"User {i:05d}", json.dumps(["regular"]), True, 0, True)
        )  # fmt: skip
    for offset, (name, scopes) in enumerate(specials):
        at = EPOCH + timedelta(seconds=USER_COUNT + offset)
        user = SeededUser(uuid7_at(at, rand), f"{name}@bench.example")
        rows.append(
            (
                user.id,
                at,
                at,
                None,
                user.email,
                hashed,
                name.title(),
                json.dumps(scopes),
                True,
                0,
                True,
            )
        )
        named[name] = user
    return rows, named


def _message_rows(
    thread_id: uuid.UUID, author_id: uuid.UUID, count: int, start: datetime, rand: random.Random
) -> Iterator[tuple[object, ...]]:
    """`count` messages one millisecond apart, oldest first."""
    for i in range(count):
        at = start + timedelta(milliseconds=i)
        body = f"message {i}"
        yield (uuid7_at(at, rand), at, at, None, thread_id, author_id, body, None, i + 1, 0)


MESSAGES_SQL = """
INSERT INTO messages ({columns})
SELECT {values}
FROM generate_series(0, $3::int - 1) AS i,
     LATERAL (SELECT $4::timestamptz + i * interval '1 millisecond' AS at) AS moment,
     LATERAL (SELECT md5(i::text || $1::uuid::text) AS noise) AS random
"""
# UUIDv7 text: 48-bit millisecond timestamp, version 7, 12 random bits, variant 10, 62 random.
MESSAGE_VALUES = {
    "id": "(lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' "
    "|| substr(noise, 1, 3) || '8' || substr(noise, 4, 15))::uuid",
    "created_at": "at",
    "updated_at": "at",
    "deleted_at": "NULL",
    "thread_id": "$1::uuid",
    "author_id": "$2::uuid",
    "body": "'message ' || i",
    "edited_at": "NULL",
    "seq": "i + 1",
    "attachment_count": "0",
}


async def _insert_messages(
    connection: asyncpg.Connection,
    thread_id: uuid.UUID,
    author_id: uuid.UUID,
    count: int,
    start: datetime,
) -> None:
    """`count` messages one millisecond apart, generated by PostgreSQL in one INSERT … SELECT
    (several times faster than sending a million rows, and the same rows)."""
    names = columns("messages", tuple(MESSAGE_VALUES))
    sql = MESSAGES_SQL.format(
        columns=", ".join(names), values=", ".join(MESSAGE_VALUES[n] for n in names)
    )
    await connection.execute(sql, thread_id, author_id, count, start)


async def _copy(
    connection: asyncpg.Connection,
    table: str,
    declared: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> None:
    await connection.copy_records_to_table(table, records=rows, columns=columns(table, declared))


async def seed(database_url: str, large_messages: int = LARGE_THREAD_MESSAGES) -> Seeded:
    """Migrate an empty database to heads and fill it; returns what the scenarios need."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    await upgrade_async(database_url)
    seconds["migrate"] = time.perf_counter() - started
    rand = random.Random(7)  # reproducible ids, not secrets
    hashed = await PasswordHasher().hash(PASSWORD)
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        user_rows, named = _user_rows(hashed, rand)
        await _copy(connection, "users", USER_COLUMNS, user_rows)
        seconds["users"] = time.perf_counter() - started

        started = time.perf_counter()
        member = named["member"]
        thread_start = EPOCH + timedelta(days=1)
        titles = ["bench: 1k messages", "bench: 1M messages", "bench: writes"]
        titles += [f"filler {i}" for i in range(FILLER_THREADS)]
        thread_ids = [
            uuid7_at(thread_start + timedelta(seconds=i), rand) for i in range(len(titles))
        ]
        small, large, write = thread_ids[:3]
        last = EPOCH + timedelta(days=30)

        def _latest(tid: uuid.UUID) -> datetime:
            return last + timedelta(seconds=1) if tid == large else last

        await _copy(
            connection,
            "threads",
            THREAD_COLUMNS,
            [
                # The 1M thread is the most recent: first on the member's GET /threads page.
                (
                    *(tid, thread_start, thread_start, None, title, member.id),
                    *(last, _latest(tid), 0, None),  # last activity, event seq, organization
                )
                for tid, title in zip(thread_ids, titles, strict=True)
            ],
        )
        await _copy(
            connection,
            "users_and_threads",
            PARTICIPANT_COLUMNS,
            [
                (
                    uuid7_at(thread_start, rand),
                    thread_start,
                    thread_start,
                    None,
                    member.id,
                    tid,
                    "creator",
                    thread_start,
                    0,
                    0,  # nothing read: the 1M thread's unread count is the capped worst case
                )
                for tid in thread_ids
            ],
        )
        seconds["threads"] = time.perf_counter() - started

        started = time.perf_counter()
        message_start = EPOCH + timedelta(days=2)
        await _copy(
            connection,
            "messages",
            MESSAGE_COLUMNS,
            _message_rows(small, member.id, SMALL_THREAD_MESSAGES, message_start, rand),
        )
        seconds["messages_1k"] = time.perf_counter() - started

        started = time.perf_counter()
        await _insert_messages(connection, large, member.id, large_messages, message_start)
        seconds["messages_1m"] = time.perf_counter() - started

        await connection.execute(
            "UPDATE threads SET event_seq = coalesce("
            "(SELECT max(seq) FROM messages WHERE thread_id = threads.id), 0)"
        )
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        seconds["vacuum_analyze"] = time.perf_counter() - started
        deep = await connection.fetchrow(
            "SELECT created_at, id FROM messages WHERE thread_id = $1 "
            "ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
            large,
            large_messages // 2,
        )
        assert deep is not None, "the large thread has no message half-way down"
        users_total = await connection.fetchval("SELECT count(*) FROM users")
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return Seeded(
        password=PASSWORD,
        member=member,
        admin=named["admin"],
        login_users=[named[f"login{i}"] for i in range(LOGIN_USERS)],
        small_thread=small,
        large_thread=large,
        write_thread=write,
        fanout_users=[SeededUser(row[0], str(row[4])) for row in user_rows[:FANOUT_USERS]],  # type: ignore[arg-type]
        deep_key=(deep["created_at"], deep["id"]),
        users_total=users_total,
        postgres_version=str(version).split()[0],
        seconds=seconds,
    )
