"""`next_seq` on a stream whose counter is a column of the entity's own row: further columns set
in the same statement, and the row loaded in the session in step without a reload."""

import uuid

import pytest
from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.platform.realtime import StreamKind, next_seq
from tests.core.models import Widget
from tests.helpers import recorded_statements


def nobody(widget_id: uuid.UUID) -> Select[uuid.UUID]:
    """No audience: these tests look at the counter alone."""
    return select(Widget.id).where(false())


COUNTED = StreamKind("test_widget_sizes", audience=nobody, counter=Widget.size)
UNCOUNTED = StreamKind("test_widget_events", audience=nobody)


async def test_values_are_set_beside_the_seq_and_the_loaded_row_follows(
    session: AsyncSession,
) -> None:
    widget = Widget(name=f"counted-{uuid.uuid4()}", size=4)
    session.add(widget)
    await session.flush()
    renamed = f"renamed-{uuid.uuid4()}"
    with recorded_statements(session.bind) as seen:
        seq = await next_seq(session, COUNTED(widget.id), values={"name": renamed})
    assert seq == 5
    assert [sql.lstrip().split()[0].upper() for sql, _ in seen] == ["UPDATE"]
    assert (widget.size, widget.name) == (5, renamed)  # as read: nothing left to flush
    assert widget not in session.dirty
    await session.commit()
    stored = await session.execute(select(Widget.size, Widget.name).where(Widget.id == widget.id))
    assert tuple(stored.one()) == (5, renamed)


async def test_values_need_a_counter_column(session: AsyncSession) -> None:
    with pytest.raises(TypeError, match="no counter column"):
        await next_seq(session, UNCOUNTED(uuid.uuid4()), values={"name": "x"})
