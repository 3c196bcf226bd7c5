"""BaseRepository on a test-only model, against the leg's real database."""

import uuid
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import Conflict, NotFound
from tests.core.models import Widget, WidgetRepository
from tests.helpers import recorded_statements, selects


async def add_widgets(session: AsyncSession, *names: str, **fields: Any) -> list[Widget]:
    widgets = await WidgetRepository(session).add_many(Widget(name=n, **fields) for n in names)
    await session.commit()
    return widgets


async def test_add_sets_time_ordered_id_and_aware_utc_timestamps(session: AsyncSession) -> None:
    widget = (await add_widgets(session, "a"))[0]
    assert widget.id.version == 7
    assert widget.created_at.utcoffset() == timedelta(0)
    assert abs(utcnow() - widget.created_at) < timedelta(minutes=1)
    session.expunge_all()
    fetched = await WidgetRepository(session).get(widget.id)
    assert fetched.created_at == widget.created_at
    assert fetched.created_at.tzinfo is not None


async def test_a_new_row_was_last_updated_when_it_was_created(session: AsyncSession) -> None:
    """One clock read per row on every insert path (before: two, microseconds apart)."""
    repo = WidgetRepository(session)
    added = await repo.add(Widget(name="added"))
    many = await repo.add_many(Widget(name=f"many{i}") for i in range(3))
    inserted = await repo.insert(Widget(name="inserted"))
    await session.execute(insert(Widget), [{"name": "bulk0"}, {"name": "bulk1"}])
    connection = await session.connection()  # Core, no ORM
    await connection.execute(insert(Widget).values(name="core"))
    await session.commit()
    for widget in (added, *many, inserted):
        assert widget.updated_at == widget.created_at, widget.name
    stored = (
        await session.execute(select(Widget.name, Widget.created_at, Widget.updated_at))
    ).all()
    assert len(stored) == 8
    assert [row.name for row in stored if row.updated_at != row.created_at] == []


async def test_a_row_created_in_the_past_was_last_updated_then(session: AsyncSession) -> None:
    past = utcnow() - timedelta(days=3)
    repo = WidgetRepository(session)
    added = await repo.add(Widget(name="added", created_at=past))
    inserted = await repo.insert(Widget(name="inserted", created_at=past))
    await session.commit()
    assert (added.updated_at, inserted.updated_at) == (past, past)
    session.expunge_all()
    assert (await repo.get(inserted.id)).updated_at == past


async def test_get_one_and_one_or_none(session: AsyncSession) -> None:
    a, _ = await add_widgets(session, "a", "b")
    repo = WidgetRepository(session)
    assert (await repo.get(a.id)).name == "a"
    assert (await repo.one(repo.select().where(Widget.name == "b"))).name == "b"
    assert await repo.one_or_none(repo.select().where(Widget.name == "zzz")) is None
    with pytest.raises(NotFound):
        await repo.get(uuid.uuid4())
    with pytest.raises(NotFound):
        await repo.one(repo.select().where(Widget.name == "zzz"))


async def test_all_count_exists(session: AsyncSession) -> None:
    await add_widgets(session, "a", "b", "c")
    repo = WidgetRepository(session)
    stmt = repo.select().where(Widget.name != "c").order_by(Widget.name)
    assert [w.name for w in await repo.all(stmt)] == ["a", "b"]
    assert await repo.count(stmt) == 2
    assert await repo.exists(stmt)
    assert not await repo.exists(repo.select().where(Widget.name == "zzz"))


async def test_soft_deleted_rows_are_invisible_everywhere_by_default(session: AsyncSession) -> None:
    a, _b = await add_widgets(session, "a", "b")
    repo = WidgetRepository(session)
    await repo.soft_delete(a)
    await session.commit()
    assert a.deleted and a.deleted_at is not None
    assert [w.name for w in await repo.all(repo.select())] == ["b"]
    assert await repo.count(repo.select()) == 1
    assert not await repo.exists(repo.by_id(a.id))
    with pytest.raises(NotFound):
        await repo.get(a.id)
    page = await repo.page_offset(repo.select(), limit=10, offset=0)
    assert page.total == 1
    keyset = await repo.page_keyset(repo.select(), limit=10)
    assert [w.name for w in keyset.items] == ["b"]
    # opting in shows it, and the `deleted` expression filters in SQL
    assert await repo.count(repo.select(include_deleted=True)) == 2
    deleted = await repo.all(repo.select(include_deleted=True).where(Widget.deleted))
    assert [w.name for w in deleted] == ["a"]


async def test_restore_brings_a_row_back(session: AsyncSession) -> None:
    (a,) = await add_widgets(session, "a")
    repo = WidgetRepository(session)
    await repo.soft_delete(a)
    await repo.restore(await repo.get(a.id, include_deleted=True))
    await session.commit()
    assert not (await repo.get(a.id)).deleted


async def test_hard_delete_removes_the_row(session: AsyncSession) -> None:
    (a,) = await add_widgets(session, "a")
    repo = WidgetRepository(session)
    await repo.hard_delete(a)
    await session.commit()
    assert await repo.count(repo.select(include_deleted=True)) == 0


async def test_update_applies_only_given_fields_and_bumps_updated_at(session: AsyncSession) -> None:
    (a,) = await add_widgets(session, "a", size=3)
    before = a.updated_at
    repo = WidgetRepository(session)
    await repo.update(a, {"name": "renamed"})
    await session.commit()
    session.expunge_all()
    fresh = await repo.get(a.id)
    assert (fresh.name, fresh.size) == ("renamed", 3)
    assert fresh.updated_at > before


@pytest.mark.parametrize("field", ["id", "created_at", "deleted_at", "not_a_column"])
async def test_update_refuses_protected_or_unknown_fields(
    session: AsyncSession, field: str
) -> None:
    (a,) = await add_widgets(session, "a")
    with pytest.raises(ValueError, match=field):
        await WidgetRepository(session).update(a, {field: None})


async def test_integrity_error_becomes_conflict(session: AsyncSession, database: Any) -> None:
    await add_widgets(session, "same")
    async with database.session() as other:
        with pytest.raises(Conflict):
            await WidgetRepository(other).add(Widget(name="same"))
        await other.rollback()
        # the session is usable again after the rollback
        assert await WidgetRepository(other).count(WidgetRepository(other).select()) == 1


async def test_insert_writes_one_row_with_its_defaults_outside_the_session(
    session: AsyncSession,
) -> None:
    widget = await WidgetRepository(session).insert(Widget(name="inserted"))
    assert widget.id.version == 7
    assert widget.created_at.tzinfo is not None
    assert (widget.size, widget.owner_id, widget.deleted_at) == (0, None, None)
    assert widget not in session  # no identity-map entry, nothing left to flush
    await session.commit()
    session.expunge_all()
    stored = await WidgetRepository(session).get(widget.id)
    assert (stored.name, stored.size, stored.created_at) == ("inserted", 0, widget.created_at)


async def test_insert_flushes_pending_changes_first_and_maps_conflicts(
    session: AsyncSession,
) -> None:
    repo = WidgetRepository(session)
    session.add(Widget(name="pending"))  # not flushed yet: the INSERT below must see it
    with pytest.raises(Conflict):
        await repo.insert(Widget(name="pending"))
    await session.rollback()
    assert await repo.count(repo.select()) == 0


async def test_offset_pages_count_separately_and_slice(session: AsyncSession) -> None:
    await add_widgets(session, *(f"w{i:02d}" for i in range(7)))
    repo = WidgetRepository(session)
    page = await repo.page_offset(repo.select().order_by(Widget.name), limit=3, offset=3)
    assert [w.name for w in page.items] == ["w03", "w04", "w05"]
    assert (page.total, page.limit, page.offset) == (7, 3, 3)
    last = await repo.page_offset(repo.select().order_by(Widget.name), limit=3, offset=6)
    assert [w.name for w in last.items] == ["w06"]
    past = await repo.page_offset(repo.select().order_by(Widget.name), limit=3, offset=9)
    assert (past.items, past.total) == ([], 7)  # no row carries the total: counted alone
    none = await repo.page_offset(repo.select().where(Widget.size < 0), limit=3, offset=0)
    assert (none.items, none.total) == ([], 0)


async def test_an_offset_page_and_its_total_are_one_statement(session: AsyncSession) -> None:
    await add_widgets(session, *(f"w{i:02d}" for i in range(7)))
    repo = WidgetRepository(session)
    with recorded_statements(session.bind) as seen:
        for rows in (False, True):
            page = await repo.page_offset(
                repo.select().where(Widget.name > "w01").order_by(Widget.name),
                limit=2,
                offset=1,
                rows=rows,
            )
            items: list[Any] = list(page.items)  # dicts with rows=True
            names = [w["name"] if rows else w.name for w in items]
            assert (names, page.total) == (["w03", "w04"], 5)
    assert len(selects(seen)) == 2, seen


async def test_for_update_locks_the_row_until_the_transaction_ends(
    session: AsyncSession, database: Any
) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite has no row locks: its one writer at a time is the lock")
    (a,) = await add_widgets(session, "a")
    assert (await WidgetRepository(session).get(a.id, for_update=True)).id == a.id
    grab = text("SELECT id FROM test_widgets WHERE id = :id FOR UPDATE NOWAIT")
    async with database.session() as other:
        with pytest.raises(DBAPIError, match="could not obtain lock"):
            await other.execute(grab, {"id": a.id})
        await other.rollback()
        await session.commit()
        assert (await other.execute(grab, {"id": a.id})).scalar_one() == a.id


async def test_timestamps_round_trip_in_utc(session: AsyncSession) -> None:
    (a,) = await add_widgets(session, "a")
    session.expunge_all()
    fresh = await WidgetRepository(session).get(a.id)
    assert fresh.created_at.tzinfo is not None
    assert fresh.created_at.astimezone(UTC) == a.created_at
