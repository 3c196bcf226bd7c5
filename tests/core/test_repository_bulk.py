"""Bulk writes over the rows a select matches: counts, visibility, soft delete, the session."""

import uuid
from typing import Any

import pytest
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from core.security import Principal
from tests.core.models import (
    Gadget,
    GadgetController,
    OwnedWidgetController,
    Widget,
    WidgetRepository,
)
from tests.helpers import recorded_statements, selects

ALICE, BOB = uuid.uuid4(), uuid.uuid4()


def as_user(user_id: uuid.UUID) -> Principal:
    return Principal(id=user_id, scopes=frozenset({"regular"}))


async def widgets(session: AsyncSession, owner: uuid.UUID, *sizes: int) -> list[Widget]:
    rows = [Widget(name=f"w-{uuid.uuid4().hex[:8]}", size=s, owner_id=owner) for s in sizes]
    await WidgetRepository(session).add_many(rows)
    await session.commit()
    return rows


async def sizes(database: Any, owner: uuid.UUID) -> list[int]:
    """The stored sizes of `owner`'s live widgets, read in a fresh session."""
    async with database.session() as fresh:
        stmt = select(Widget.size).where(Widget.owner_id == owner, Widget.deleted_at.is_(None))
        return sorted((await fresh.scalars(stmt)).all())


async def test_update_where_changes_only_the_callers_matching_rows(
    session: AsyncSession, database: Any
) -> None:
    await widgets(session, ALICE, 1, 2, 30)
    await widgets(session, BOB, 1, 2)
    controller = OwnedWidgetController(session, as_user(ALICE))
    stmt = controller.query().where(Widget.size < 10)
    with recorded_statements(database.engine) as statements:
        changed = await controller.repository.update_where(stmt, {"size": 7})
    assert changed == 2
    writes = [sql for sql, _ in statements if sql.lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1 and "RETURNING" in writes[0]
    assert selects(statements) == []  # one statement: no count, no fetch of the rows first
    await session.commit()
    assert await sizes(database, ALICE) == [7, 7, 30]
    assert await sizes(database, BOB) == [1, 2]


async def test_update_where_sets_updated_at_and_loaded_rows_see_the_new_values(
    session: AsyncSession,
) -> None:
    first, second = await widgets(session, ALICE, 1, 2)
    before = first.updated_at
    repository = WidgetRepository(session)
    changed = await repository.update_where(repository.select(), {"size": 9})
    assert changed == 2
    assert (first.size, second.size) == (9, 9)  # no refresh, no lazy load
    assert first.updated_at > before


async def test_a_select_with_a_subquery_join_or_exists_keeps_its_visibility(
    session: AsyncSession, database: Any
) -> None:
    mine, theirs = (await widgets(session, ALICE, 1))[0], (await widgets(session, BOB, 1))[0]
    session.add_all(
        [
            Gadget(widget_id=mine.id, label="a"),
            Gadget(widget_id=mine.id, label="b"),
            Gadget(widget_id=theirs.id, label="c"),
        ]
    )
    await session.commit()
    controller = GadgetController(session, as_user(ALICE))
    repository = controller.repository
    assert await repository.update_where(controller.query(), {"label": "scoped"}) == 2
    joined = repository.select().join(Widget, Widget.id == Gadget.widget_id)
    assert await repository.update_where(joined.where(Widget.owner_id == BOB), {"label": "j"}) == 1
    owned = exists().where(Widget.id == Gadget.widget_id, Widget.owner_id == ALICE)
    assert await repository.update_where(repository.select().where(owned), {"label": "e"}) == 2
    await session.commit()
    async with database.session() as fresh:
        labels = (await fresh.execute(select(Gadget.widget_id, Gadget.label))).all()
    assert sorted(label for widget_id, label in labels if widget_id == mine.id) == ["e", "e"]
    assert [label for widget_id, label in labels if widget_id == theirs.id] == ["j"]


async def test_soft_delete_where_and_restore_where_count_the_rows_they_change(
    session: AsyncSession, database: Any
) -> None:
    first, _, _ = await widgets(session, ALICE, 1, 2, 3)
    await widgets(session, BOB, 1)
    controller = OwnedWidgetController(session, as_user(ALICE))
    repository = controller.repository
    assert await repository.soft_delete_where(controller.query().where(Widget.size < 3)) == 2
    assert first.deleted and first.updated_at == first.deleted_at
    assert await repository.soft_delete_where(controller.query(include_deleted=True)) == 1
    await session.commit()
    assert await sizes(database, ALICE) == []
    assert await sizes(database, BOB) == [1]
    everything = controller.query(include_deleted=True)
    assert await repository.restore_where(everything.where(Widget.size > 1)) == 2
    assert await repository.restore_where(everything) == 1
    assert not first.deleted
    await session.commit()
    assert await sizes(database, ALICE) == [1, 2, 3]


async def test_hard_delete_where_removes_the_rows_and_their_loaded_objects(
    session: AsyncSession, database: Any
) -> None:
    first, _ = await widgets(session, ALICE, 1, 2)
    await widgets(session, BOB, 1)
    controller = OwnedWidgetController(session, as_user(ALICE))
    assert await controller.repository.hard_delete_where(controller.query()) == 2
    assert first not in session
    await session.commit()
    assert await sizes(database, ALICE) == []
    assert await sizes(database, BOB) == [1]


async def test_a_rollback_leaves_nothing_written(session: AsyncSession, database: Any) -> None:
    await widgets(session, ALICE, 1, 2)
    repository = WidgetRepository(session)
    assert await repository.update_where(repository.select(), {"size": 5}) == 2
    assert await repository.soft_delete_where(repository.select()) == 2
    await session.rollback()
    assert await sizes(database, ALICE) == [1, 2]


async def test_more_rows_than_max_rows_is_a_conflict_before_anything_is_written(
    session: AsyncSession, database: Any
) -> None:
    await widgets(session, ALICE, 1, 2, 3)
    repository = WidgetRepository(session)
    with pytest.raises(Conflict, match="More than 2 rows"):
        await repository.update_where(repository.select(), {"size": 0}, max_rows=2)
    with pytest.raises(Conflict):
        await repository.soft_delete_where(repository.select(), max_rows=2)
    await session.commit()
    assert await sizes(database, ALICE) == [1, 2, 3]
    assert await repository.update_where(repository.select(), {"size": 0}, max_rows=3) == 3


async def test_a_constraint_violation_is_a_conflict(session: AsyncSession) -> None:
    await widgets(session, ALICE, 1, 2)
    repository = WidgetRepository(session)
    with pytest.raises(Conflict):
        await repository.update_where(repository.select(), {"name": "same"})


async def test_statements_of_other_models_and_protected_columns_are_refused(
    session: AsyncSession,
) -> None:
    repository = WidgetRepository(session)
    for stmt in (select(Gadget), select(Widget.id), select(Widget, Gadget)):
        with pytest.raises(ValueError, match="needs a select of it alone"):
            await repository.update_where(stmt, {"size": 1})  # type: ignore[arg-type]
    for column in ("id", "deleted_at", "updated_at", "no_such_column"):
        with pytest.raises(ValueError, match="cannot be updated"):
            await repository.update_where(repository.select(), {column: None})
