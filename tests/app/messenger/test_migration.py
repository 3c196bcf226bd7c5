"""Migration 0003 matches the models and can be undone and redone."""

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from alembic import command
from core.db import Base, create_engine
from core.migrations import alembic_config, upgrade

MESSENGER_TABLES = {"threads", "users_and_threads", "messages"}


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
            table = getattr(part, "table", None) or part
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
        assert names >= MESSENGER_TABLES
    finally:
        await engine.dispose()
