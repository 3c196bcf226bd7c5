"""Enum columns: values stored, a named CHECK on both databases, Alembic sees them."""

import uuid
from enum import StrEnum
from typing import Any

import pytest
import sqlalchemy
from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, Connection, MetaData, String, Table, Uuid, bindparam, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.columns import enum_column, enum_type
from core.db import NAMING_CONVENTION
from core.errors import Conflict
from core.migrations import AUTOGENERATE_PLUGINS, skip_checks_added_with_their_column
from tests.core.models import Project, ProjectRepository, Status


async def checks(session: AsyncSession, table: str) -> dict[str, str]:
    """The CHECK constraints of `table` as the database reports them: name → SQL."""
    connection = await session.connection()

    def read(sync: Connection) -> dict[str, str]:
        found = inspect(sync).get_check_constraints(table)
        return {str(ck["name"]): ck["sqltext"] for ck in found}

    return await connection.run_sync(read)


async def test_the_column_stores_values_in_a_varchar_as_long_as_the_longest(
    session: AsyncSession,
) -> None:
    project = await ProjectRepository(session).add(Project(name="p", status=Status.ON_HOLD))
    await session.commit()
    stored = await session.scalar(text("SELECT status FROM test_projects"))
    assert stored == "on_hold"
    assert project.status is Status.ON_HOLD
    column_type: Any = Project.__table__.c.status.type
    assert column_type.length == len("on_hold")


async def test_a_named_check_refuses_other_values_on_this_database(session: AsyncSession) -> None:
    found = await checks(session, "test_projects")
    assert set(found) == {"ck_test_projects_status"}
    assert "'on_hold'" in found["ck_test_projects_status"]
    insert = text(
        "INSERT INTO test_projects (id, name, status, budget, created_at, updated_at)"
        " VALUES (:id, 'p', :status, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    ).bindparams(bindparam("id", type_=Uuid()))
    for status in ("ON_HOLD", "done", ""):
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await session.execute(insert, {"id": uuid.uuid4(), "status": status})
    with pytest.raises(DBAPIError):  # PostgreSQL: longer than the column; SQLite: the CHECK
        async with session.begin_nested():
            await session.execute(insert, {"id": uuid.uuid4(), "status": "archived"})
    for status in ("done", "archived"):
        with pytest.raises(Conflict):
            async with session.begin_nested():
                await ProjectRepository(session).add(Project(name="p", status=status))
    assert await session.scalar(text("SELECT count(*) FROM test_projects")) == 0


class Colour(StrEnum):
    RED = "red"
    LIGHT_BLUE = "light-blue"


async def test_autogenerate_adds_a_new_enum_column_with_its_check(session: AsyncSession) -> None:
    toy_table = f"test_enum_{uuid.uuid4().hex[:8]}"

    def table(metadata: MetaData, *columns: Any) -> Table:
        return Table(toy_table, metadata, Column("id", String(32), primary_key=True), *columns)

    before = MetaData(naming_convention=NAMING_CONVENTION)
    after = MetaData(naming_convention=NAMING_CONVENTION)
    table(before)
    table(after, Column("colour", enum_type(Colour), nullable=True))
    connection = await session.connection()

    def migrate(sync: Connection) -> tuple[str, list[Any], list[Any]]:
        """Autogenerate, run the rendered migration as a revision file would, compare again."""
        before.create_all(sync)
        options = {
            "target_metadata": after,
            "autogenerate_plugins": AUTOGENERATE_PLUGINS,
            "render_as_batch": True,
            "include_name": lambda name, kind, _: kind != "table" or name == toy_table,
        }
        context = MigrationContext.configure(sync, opts=options)
        script = produce_migrations(context, after)
        skip_checks_added_with_their_column(context, None, [script])  # as alembic/env.py does
        upgrade = script.upgrade_ops
        assert upgrade is not None
        code = render_python_code(upgrade, render_as_batch=True)
        body = "\n".join(line.removeprefix("    ") for line in code.splitlines())
        exec(body, {"op": Operations(context), "sa": sqlalchemy})  # noqa: S102
        again = produce_migrations(context, after).upgrade_ops
        found = inspect(sync).get_check_constraints(toy_table)
        after.drop_all(sync)
        return code, again.as_diffs() if again else [], found

    code, again, found = await connection.run_sync(migrate)
    await session.commit()
    assert "add_column(sa.Column('colour', sa.Enum('red', 'light-blue', name='colour'" in code
    assert "create_constraint=True" in code
    assert "create_check_constraint" not in code  # add_column creates it: not twice
    assert again == []
    assert [ck["name"] for ck in found] == [f"ck_{toy_table}_colour"]


def test_the_check_is_named_after_the_enum_unless_told_and_length_can_be_kept() -> None:
    assert enum_type(Colour).name == "colour"
    role = enum_type(Colour, name="paint", length=16)
    assert (role.name, role.length, role.native_enum) == ("paint", 16, False)
    column = enum_column(Colour, name="paint", default=Colour.RED)
    default: Any = column.column.default
    assert default.arg is Colour.RED
