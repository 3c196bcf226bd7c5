"""The messenger's migrations: 0003 matches the models and can be undone and redone; 0011 moves
its kept events to the stream table and back."""

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from alembic import command
from core.db import Base, create_engine
from core.migrations import alembic_config, upgrade
from tests.core.test_columns import checks
from tests.core.test_migrations import fresh_url

FIRST_TABLES = {"threads", "users_and_threads", "messages"}
"""What 0003 created."""
MESSENGER_TABLES = {*FIRST_TABLES, "message_attachments"}

__all__ = ["fresh_url"]  # the fixture: an empty database of this leg's kind


def _messenger_diffs(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diffs = compare_metadata(context, Base.metadata)
    return [d for d in diffs if MESSENGER_TABLES & set(_tables_named(d))]


def _tables_named(diff: Any) -> list[str]:
    """Table names mentioned by one autogenerate diff (a tuple, or a list of tuples)."""
    items = diff if isinstance(diff, list) else [diff]
    names = []
    for item in items:
        for part in item:
            if isinstance(part, str):
                names.append(part)
            table = getattr(part, "table", None)
            table = part if table is None else table  # a Table has no truth value
            name = getattr(table, "name", None)
            if isinstance(name, str):
                names.append(name)
    return names


async def test_the_migrated_schema_matches_the_models(database: Any) -> None:
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_messenger_diffs) == []


async def test_downgrade_and_upgrade_again(leg: Any) -> None:
    if leg.is_services:
        url = leg.postgres.create_database("messenger_migration")
    else:
        url = f"sqlite+aiosqlite:///{leg.data_dir / 'messenger_migration.db'}"
    config = alembic_config(url)
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(command.downgrade, config, "0001")
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert not MESSENGER_TABLES & names
        await asyncio.to_thread(command.upgrade, config, "0003")
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert names >= FIRST_TABLES
    finally:
        await engine.dispose()


async def test_kept_thread_events_move_to_the_stream_table_and_back(fresh_url: str) -> None:
    """0011: a thread's kept events become its stream's (`kind` "threads", each frame gaining
    its `stream` key, so replays after the upgrade look like new events); downgrading puts them
    back in `thread_events`."""
    import json

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.messenger.models import Thread
    from app.users.models import User
    from core.db import create_engine, new_id, utcnow

    config = alembic_config(fresh_url)

    async def migrate(revision: str) -> None:  # in a thread: env.py runs its own event loop
        await asyncio.to_thread(command.upgrade, config, revision)

    await migrate("0010")
    kept = sa.table(
        "thread_events",
        *(sa.column(n, sa.Uuid()) for n in ("id", "thread_id")),
        sa.column("seq", sa.BigInteger()), sa.column("type", sa.String()),
        sa.column("frame", sa.Text()), sa.column("created_at", sa.DateTime()),
    )  # fmt: skip
    engine = create_engine(fresh_url)
    user = User(email="m@example.com", hashed_password="x", full_name="", scopes=["regular"])
    async with AsyncSession(engine, expire_on_commit=False) as session:  # tables as at the head
        session.add(user)
        await session.flush()
        thread = Thread(title="t", created_by=user.id, event_seq=1)
        # Only the columns 0010 has (the model has grown since), through the model's types.
        columns = [c for c in Thread.__table__.c if c.name != "organization_id"]
        values = {c.key: getattr(thread, c.key) for c in columns}
        values |= {"id": new_id(), "created_at": utcnow(), "updated_at": utcnow()}
        values["last_activity_at"] = utcnow()
        await session.execute(sa.insert(Thread).values(values))
        thread.id = values["id"]
        frame = {"type": "thread.created", "thread_id": str(thread.id), "seq": 1, "data": {}}
        await session.execute(
            sa.insert(kept),
            [{"id": new_id(), "thread_id": thread.id, "seq": 1, "type": "thread.created",
              "frame": json.dumps(frame), "created_at": utcnow().replace(tzinfo=None)}],
        )  # fmt: skip
        await session.commit()
    await engine.dispose()
    await migrate("heads")
    engine = create_engine(fresh_url)
    async with engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT kind, seq, frame FROM realtime_events"))
        ((kind, seq, text),) = rows.all()
    await engine.dispose()
    assert (kind, seq) == ("threads", 1)
    assert json.loads(text) == {**frame, "stream": f"threads:{thread.id}"}
    await asyncio.to_thread(command.downgrade, config, "0010")
    engine = create_engine(fresh_url)
    async with engine.connect() as connection:
        back = (await connection.execute(sa.text("SELECT seq, type FROM thread_events"))).all()
    await engine.dispose()
    assert [tuple(r) for r in back] == [(1, "thread.created")]


async def test_the_messenger_role_column_has_its_check_from_the_migrations(
    session: Any,
) -> None:
    found = await checks(session, "users_and_threads")
    assert "ck_users_and_threads_participant_role" in found
    assert "'creator'" in found["ck_users_and_threads_participant_role"]
