from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.core.models import Widget


@pytest.fixture(scope="session", autouse=True)
async def widget_table(database: Any) -> AsyncIterator[None]:
    """The test-only table, created for the core tests and dropped after them."""
    async with database.engine.begin() as connection:
        await connection.run_sync(Widget.__table__.create, checkfirst=True)
    yield
    async with database.engine.begin() as connection:
        await connection.run_sync(Widget.__table__.drop, checkfirst=True)
