"""Database.fetch_one: the hot-path lookup gives what a Core execution gives, on both legs."""

from typing import Any

import pytest
from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.core.models import Widget, WidgetRepository
from tests.helpers import recorded_statements, selects

BY_NAME = select(*Widget.__table__.columns, Widget.size.label("widget_size")).where(
    Widget.name == bindparam("name"), Widget.deleted_at.is_(None), Widget.size < 100
)


async def test_fetch_one_gives_the_row_core_gives(database: Any, session: AsyncSession) -> None:
    await WidgetRepository(session).add_many([Widget(name="fetched", size=7)])
    await session.commit()
    async with database.autocommit() as connection:
        expected = (await connection.execute(BY_NAME, {"name": "fetched"})).one()
    row = await database.fetch_one(BY_NAME, {"name": "fetched"})
    assert tuple(row) == tuple(expected)
    assert (row.name, row.widget_size, row.created_at) == ("fetched", 7, expected.created_at)
    assert row.created_at.tzinfo is not None
    assert await database.fetch_one(BY_NAME, {"name": "missing"}) is None
    among = select(Widget.name).where(Widget.name.in_(bindparam("names", expanding=True)))
    assert await database.fetch_one(among, {"names": ["x", "fetched"]}) == ("fetched",)


async def test_a_failing_statement_raises_as_core_raises_it(leg: Any, database: Any) -> None:
    if not leg.is_services:
        pytest.skip("SQLite's sqrt of a negative number is NULL, not an error")
    root = select(func.sqrt(bindparam("x", type_=Integer)))
    with pytest.raises(DBAPIError, match="square root of a negative number"):
        await database.fetch_one(root, {"x": -1})
    assert await database.fetch_one(root, {"x": 16}) == (4.0,)


async def test_statement_listeners_see_the_lookup(database: Any, session: AsyncSession) -> None:
    """Tracing and statement logs listen on the engine: while they do, the lookup runs where
    they see it."""
    with recorded_statements(database.engine) as seen:
        assert await database.fetch_one(BY_NAME, {"name": "nobody"}) is None
    found = selects(seen)
    assert len(found) == 1
    assert "FROM test_widgets" in found[0]
