"""Keyset (cursor) pages: fixed order, limit + 1, stable under inserts, tamper-proof cursors."""

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import BadRequest
from core.pagination import MAX_CURSOR_LENGTH, CursorCodec, cursor_binding
from tests.core.models import Widget, WidgetRepository

HEADER_AND_SIGNATURE = 1 + 8 + 12  # version, binding digest, signature: then the values


async def seed(session: AsyncSession, count: int) -> list[Widget]:
    start = utcnow() - timedelta(hours=1)
    widgets = [
        Widget(name=f"w{i:03d}", created_at=start + timedelta(seconds=i)) for i in range(count)
    ]
    await WidgetRepository(session).add_many(widgets)
    await session.commit()
    return widgets


async def walk(repo: WidgetRepository, limit: int, descending: bool = True) -> list[str]:
    names: list[str] = []
    cursor = None
    while True:
        page = await repo.page_keyset(
            repo.select(), limit=limit, cursor=cursor, descending=descending
        )
        names += [w.name for w in page.items]
        if not page.has_more:
            assert page.next_cursor is None
            return names
        cursor = page.next_cursor


async def test_walks_every_row_once_newest_first(session: AsyncSession) -> None:
    await seed(session, 23)
    names = await walk(WidgetRepository(session), limit=5)
    assert names == [f"w{i:03d}" for i in reversed(range(23))]


async def test_walks_oldest_first_when_asked(session: AsyncSession) -> None:
    await seed(session, 7)
    assert await walk(WidgetRepository(session), limit=3, descending=False) == [
        f"w{i:03d}" for i in range(7)
    ]


async def test_exact_multiple_of_limit_has_no_empty_last_page(session: AsyncSession) -> None:
    await seed(session, 6)
    repo = WidgetRepository(session)
    first = await repo.page_keyset(repo.select(), limit=3)
    second = await repo.page_keyset(repo.select(), limit=3, cursor=first.next_cursor)
    assert first.has_more and not second.has_more and len(second.items) == 3


async def test_equal_timestamps_are_ordered_by_id(session: AsyncSession) -> None:
    """Inserted out of id order, so only the id in the key can put them in order."""
    same = utcnow()
    ids = sorted(uuid.uuid4() for _ in range(5))
    shuffled = [ids[i] for i in (2, 0, 4, 1, 3)]
    await WidgetRepository(session).add_many(
        Widget(id=ident, name=f"t{ids.index(ident)}", created_at=same) for ident in shuffled
    )
    await session.commit()
    repo = WidgetRepository(session)
    assert await walk(repo, limit=2) == ["t4", "t3", "t2", "t1", "t0"]
    assert await walk(repo, limit=2, descending=False) == ["t0", "t1", "t2", "t3", "t4"]


async def test_cursor_stays_correct_while_rows_are_inserted_before_it(
    session: AsyncSession,
) -> None:
    await seed(session, 10)
    repo = WidgetRepository(session)
    first = await repo.page_keyset(repo.select(), limit=4)
    assert [w.name for w in first.items] == ["w009", "w008", "w007", "w006"]
    # newer rows arrive at the head of the list while the client pages on
    await repo.add_many(Widget(name=f"new{i}") for i in range(3))
    await session.commit()
    second = await repo.page_keyset(repo.select(), limit=4, cursor=first.next_cursor)
    assert [w.name for w in second.items] == ["w005", "w004", "w003", "w002"]


@pytest.mark.parametrize(
    "cursor", ["", "garbage", "AAAA", "x" * 40, "eyJhIjoxfQ", "%%%", "bm90LWEtY3Vyc29y"]
)
async def test_malformed_cursor_is_a_bad_request(session: AsyncSession, cursor: str) -> None:
    repo = WidgetRepository(session)
    with pytest.raises(BadRequest):
        await repo.page_keyset(repo.select(), limit=3, cursor=cursor)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _values(widget: Widget) -> bytes:
    return json.dumps([widget.created_at.isoformat(), str(widget.id)]).encode()


async def test_an_edited_cursor_is_a_bad_request(session: AsyncSession) -> None:
    """Well-formed key values under the cursor's own signature: only the signature tells."""
    widgets = await seed(session, 5)
    repo = WidgetRepository(session)
    cursor = (await repo.page_keyset(repo.select(), limit=2)).next_cursor
    assert cursor
    signed = _unb64(cursor)[:HEADER_AND_SIGNATURE]
    edited = _b64(signed + _values(widgets[1]))  # past w002 and w001: they would be skipped
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for bad in (edited, flipped):
        with pytest.raises(BadRequest, match="invalid"):
            await repo.page_keyset(repo.select(), limit=2, cursor=bad)


async def test_a_cursor_signed_with_another_secret_is_a_bad_request(
    session: AsyncSession,
) -> None:
    await seed(session, 5)
    repo = WidgetRepository(session)
    theirs = WidgetRepository(session, cursor_codec=CursorCodec("another-secret"))
    foreign = (await theirs.page_keyset(theirs.select(), limit=2)).next_cursor
    assert foreign
    with pytest.raises(BadRequest):
        await repo.page_keyset(repo.select(), limit=2, cursor=foreign)


async def test_a_cursor_belongs_to_its_list_order_and_key(session: AsyncSession) -> None:
    """Each cursor is validly signed, and would page a list of the same rows: still a 400."""
    await seed(session, 6)
    repo = WidgetRepository(session)
    stmt = repo.select()
    page = await repo.page_keyset(stmt, limit=2, binding=cursor_binding("a"))
    assert page.next_cursor
    other_uses: list[dict[str, Any]] = [
        {"binding": cursor_binding("b")},
        {"binding": cursor_binding("a", parent_id=uuid.uuid4())},
        {"binding": cursor_binding("a", filters={"name": "w"})},
        {"binding": cursor_binding("a"), "descending": False},
        {"binding": cursor_binding("a"), "key": (Widget.updated_at, Widget.id)},
    ]
    for other in other_uses:
        with pytest.raises(BadRequest, match="another list"):
            await repo.page_keyset(stmt, limit=2, cursor=page.next_cursor, **other)
    same = await repo.page_keyset(
        stmt, limit=2, cursor=page.next_cursor, binding=cursor_binding("a")
    )
    assert [w.name for w in same.items] == ["w003", "w002"]


def test_equal_filters_bind_alike_and_other_filters_do_not() -> None:
    assert cursor_binding("l", filters={"a": 1, "b": None}) == cursor_binding(
        "l", filters={"b": None, "a": 1}
    )
    assert cursor_binding("l", filters={"a": 1}) != cursor_binding("l", filters={"a": 2})
    assert cursor_binding("l", filters={"a": 1}) != cursor_binding("l")
    assert cursor_binding("l", parent_id=1) != cursor_binding("l", parent_id=2)


def test_cursors_fit_the_query_parameter() -> None:
    codec = CursorCodec("s")
    binding = cursor_binding("x" * 200, parent_id=uuid.uuid4(), filters={"q": "y" * 300})
    assert len(codec.encode([utcnow(), uuid.uuid4()], binding=binding)) <= MAX_CURSOR_LENGTH
    with pytest.raises(ValueError, match="too long"):
        codec.encode(["z" * 400])


def test_codec_round_trips_typed_values() -> None:
    import uuid
    from datetime import datetime

    codec = CursorCodec("s")
    now, ident = utcnow(), uuid.uuid4()
    assert codec.decode(codec.encode([now, ident]), [datetime, uuid.UUID]) == (now, ident)
    with pytest.raises(BadRequest):
        codec.decode(codec.encode([now]), [datetime, uuid.UUID])


async def test_plain_row_pages_are_the_entity_pages_as_dicts(session: AsyncSession) -> None:
    await seed(session, 7)
    repo = WidgetRepository(session, cursor_codec=CursorCodec("k"))
    entities = await repo.page_keyset(repo.select(), limit=3)
    plain = await repo.page_keyset(repo.select(), limit=3, rows=True)
    columns = Widget.__table__.columns.keys()
    rows: list[Any] = list(plain.items)  # rows=True: dicts
    assert rows == [{c: getattr(w, c) for c in columns} for w in entities.items]
    assert (plain.next_cursor, plain.has_more) == (entities.next_cursor, True)
    offset = await repo.page_offset(
        repo.select().order_by(Widget.name), limit=2, offset=1, rows=True
    )
    names = [w["name"] for w in list[Any](offset.items)]
    assert names == ["w001", "w002"] and offset.total == 7
