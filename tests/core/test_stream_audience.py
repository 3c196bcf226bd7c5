"""A stream's audience is the users its declared statement selects for that stream's id, whether
the statement compares the id in SQL (built once, the id bound per event) or needs the id's
value in Python (built for each id)."""

import uuid
from collections.abc import Callable

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.platform.realtime import StreamKind
from core.platform.realtime.streams import audience
from tests.core.models import Widget


def owner_by_id(widget_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(Widget.id).where(Widget.id == widget_id)


def owner_by_name(widget_id: uuid.UUID) -> Select[uuid.UUID]:
    """Uses the id's value in Python: no bound parameter can stand for it."""
    return select(Widget.id).where(Widget.name == f"w-{widget_id.hex[:20]}")


def owner_by_text(widget_id: uuid.UUID) -> Select[uuid.UUID]:
    """Turns the id into text without failing: a bound parameter would become other text."""
    return select(Widget.id).where(Widget.name == f"w-{str(widget_id)[:20]}")


BY_ID = StreamKind("test_audience_by_id", audience=owner_by_id)
BY_NAME = StreamKind("test_audience_by_name", audience=owner_by_name)
BY_TEXT = StreamKind("test_audience_by_text", audience=owner_by_text)


async def _widgets(session: AsyncSession, name: Callable[[uuid.UUID], str]) -> list[Widget]:
    widgets = []
    for _ in range(2):
        widget_id = uuid.uuid4()
        widgets.append(Widget(id=widget_id, name=name(widget_id)))
    session.add_all(widgets)
    await session.flush()
    return widgets


async def test_each_stream_reaches_its_own_audience(session: AsyncSession) -> None:
    names: list[tuple[StreamKind, Callable[[uuid.UUID], str]]] = [
        (BY_ID, lambda _: f"w-{uuid.uuid4().hex[:20]}"),
        (BY_NAME, lambda i: f"w-{i.hex[:20]}"),
        (BY_TEXT, lambda i: f"w-{str(i)[:20]}"),
    ]
    for kind, name in names:
        first, second = await _widgets(session, name)
        assert await audience(session, kind(first.id)) == {first.id}, kind
        assert await audience(session, kind(second.id)) == {second.id}, kind
        assert await audience(session, kind(uuid.uuid4())) == set(), kind
