from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.core.models import Document, Gadget, Project, Widget


@pytest.fixture(scope="session", autouse=True)
async def widget_table(database: Any) -> AsyncIterator[None]:
    """The test-only table, created for the core tests and dropped after them."""
    tables = [
        Widget.metadata.tables[model.__tablename__] for model in (Widget, Gadget, Project, Document)
    ]
    async with database.engine.begin() as connection:
        for table in tables:
            await connection.run_sync(table.create, checkfirst=True)
    yield
    async with database.engine.begin() as connection:
        for table in reversed(tables):
            await connection.run_sync(table.drop, checkfirst=True)
