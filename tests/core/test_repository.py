from datetime import UTC
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from tests.core.models import Widget, WidgetRepository


async def test_add_sets_id_and_aware_timestamps(session: AsyncSession) -> None:
    repo = WidgetRepository(session)
    widget = await repo.add(Widget(name="a"))
    await session.commit()
    assert widget.id.version == 7
    assert widget.created_at.tzinfo is not None
    assert widget.created_at.utcoffset() == UTC.utcoffset(None)
    fetched = await WidgetRepository(session).get(widget.id)
    assert fetched.created_at == widget.created_at


async def test_get_missing_raises_not_found(session: AsyncSession) -> None:
    import uuid

    with pytest.raises(NotFound):
        await WidgetRepository(session).get(uuid.uuid4())


async def test_duplicate_unique_value_is_a_conflict(session: AsyncSession, database: Any) -> None:
    repo = WidgetRepository(session)
    await repo.add(Widget(name="same"))
    await session.commit()
    async with database.session() as other:
        with pytest.raises(Conflict):
            await WidgetRepository(other).add(Widget(name="same"))
        await other.rollback()
