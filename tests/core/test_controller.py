"""BaseController: visibility, object checks, perform_* hooks, sort allowlist, filters, limits."""

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.controller import BaseController, Parent
from core.errors import Forbidden, InvalidInput, NotFound
from core.pagination import CursorParams, OffsetParams
from core.security import Principal
from tests.core.models import (
    GadgetController,
    GadgetCreate,
    OwnedWidgetController,
    Widget,
    WidgetController,
    WidgetCreate,
    WidgetFilters,
    WidgetRepository,
    WidgetUpdate,
)
from tests.helpers import recorded_statements, selects


def principal() -> Principal:
    return Principal(id=uuid.uuid4(), scopes=frozenset({"regular"}))


async def make(session: AsyncSession, *specs: tuple[str, int]) -> None:
    controller = WidgetController(session, None)
    for name, size in specs:
        await controller.create(WidgetCreate(name=name, size=size))
    await session.commit()


async def test_create_get_update_delete_restore(session: AsyncSession) -> None:
    controller = WidgetController(session, None)
    widget = await controller.create(WidgetCreate(name="a", size=1))
    updated = await controller.update(widget.id, WidgetUpdate(size=5))
    assert (updated.name, updated.size) == ("a", 5)
    await controller.delete(widget.id)
    with pytest.raises(NotFound):
        await controller.get(widget.id)
    restored = await controller.restore(widget.id)
    assert not restored.deleted
    assert (await controller.get(widget.id)).size == 5


async def test_create_with_insert_writes_the_row_without_the_unit_of_work(
    session: AsyncSession,
) -> None:
    class InsertingRepository(WidgetRepository):
        create_with_insert = True

    class InsertingController(
        BaseController[Widget, WidgetCreate, WidgetUpdate, InsertingRepository]
    ):
        pass

    controller = InsertingController(session, None)
    widget = await controller.create(WidgetCreate(name="fast", size=2))
    assert widget not in session
    await session.commit()
    assert (await controller.get(widget.id)).size == 2


async def test_update_applies_only_sent_fields(session: AsyncSession) -> None:
    controller = WidgetController(session, None)
    widget = await controller.create(WidgetCreate(name="keep", size=1))
    await controller.update(widget.id, WidgetUpdate(size=2))
    assert (await controller.get(widget.id)).name == "keep"


async def test_null_for_a_required_column_is_invalid_input(session: AsyncSession) -> None:
    controller = WidgetController(session, None)
    widget = await controller.create(WidgetCreate(name="keep", size=1))
    with pytest.raises(InvalidInput) as raised:
        await controller.update(widget.id, WidgetUpdate(name=None))
    assert raised.value.errors[0]["loc"] == ["body", "name"]
    assert (await controller.get(widget.id)).name == "keep"


async def test_list_sorts_by_allowlisted_fields_with_id_tiebreak(session: AsyncSession) -> None:
    await make(session, ("b", 2), ("a", 2), ("c", 1))
    controller = WidgetController(session, None)
    page = await controller.list(OffsetParams(sort="-size,name"))
    assert [w.name for w in page.items] == ["a", "b", "c"]
    page = await controller.list(OffsetParams(sort="name"))
    assert [w.name for w in page.items] == ["a", "b", "c"]


async def test_rows_equal_on_every_sort_field_come_in_id_order(session: AsyncSession) -> None:
    ids = sorted(uuid.uuid4() for _ in range(4))
    repo = WidgetRepository(session)
    await repo.add_many(Widget(id=ids[i], name=f"w{i}", size=1) for i in (3, 1, 0, 2))
    await session.commit()
    for sort in ("size", "-size"):
        page = await WidgetController(session, None).list(OffsetParams(sort=sort))
        assert [w.id for w in page.items] == ids


@pytest.mark.parametrize("sort", ["owner_id", "-deleted_at", "name,__class__", "a,b,c,d"])
async def test_unknown_sort_is_invalid_input(session: AsyncSession, sort: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        await WidgetController(session, None).list(OffsetParams(sort=sort))
    assert raised.value.errors[0]["loc"] == ["query", "sort"]


async def test_filters_map_fields_to_columns(session: AsyncSession) -> None:
    await make(session, ("red box", 1), ("blue box", 5), ("red ball", 9))
    controller = WidgetController(session, None)
    page = await controller.list(OffsetParams(sort="name"), filters=WidgetFilters(name="RED"))
    assert [w.name for w in page.items] == ["red ball", "red box"]
    assert page.total == 2
    page = await controller.list(OffsetParams(), filters=WidgetFilters(name="box", min_size=2))
    assert [w.name for w in page.items] == ["blue box"]


async def test_contains_filter_escapes_wildcards(session: AsyncSession) -> None:
    await make(session, ("100% real", 1), ("1000 real", 1))
    page = await WidgetController(session, None).list(
        OffsetParams(), filters=WidgetFilters(name="0%")
    )
    assert [w.name for w in page.items] == ["100% real"]


@pytest.mark.parametrize("limit", [0, 101])
async def test_limit_outside_bounds_is_invalid(session: AsyncSession, limit: int) -> None:
    with pytest.raises(InvalidInput):
        await WidgetController(session, None).list(OffsetParams(limit=limit))
    with pytest.raises(InvalidInput):
        await GadgetController(session, None).list(CursorParams(limit=limit))


async def test_cursor_pagination_walks_keyset_pages(session: AsyncSession) -> None:
    alice = principal()
    parent = await OwnedWidgetController(session, alice).create(WidgetCreate(name="p"))
    gadgets = GadgetController(session, alice)
    for i in range(5):
        await gadgets.create(GadgetCreate(label=f"g{i}"), parent_id=parent.id)
    await session.commit()
    first = await gadgets.list(CursorParams(limit=3))
    second = await gadgets.list(CursorParams(limit=3, cursor=first.next_cursor))
    labels = [g.label for g in (*first.items, *second.items)]
    assert labels == ["g4", "g3", "g2", "g1", "g0"] and not second.has_more


async def test_visibility_hides_other_owners_rows_as_not_found(session: AsyncSession) -> None:
    alice, bob = principal(), principal()
    mine = await OwnedWidgetController(session, alice).create(WidgetCreate(name="mine"))
    await session.commit()
    assert mine.owner_id == alice.id
    bobs = OwnedWidgetController(session, bob)
    assert (await bobs.list(OffsetParams())).total == 0
    for call in (
        bobs.get(mine.id),
        bobs.update(mine.id, WidgetUpdate(size=1)),
        bobs.delete(mine.id),
    ):
        with pytest.raises(NotFound):
            await call


async def test_check_object_guards_actions(session: AsyncSession) -> None:
    alice = principal()
    owned = OwnedWidgetController(session, alice)
    big = await owned.create(WidgetCreate(name="big", size=500))
    assert (await owned.get(big.id)).name == "big"
    with pytest.raises(Forbidden):
        await owned.delete(big.id)


class ScopedGadgetController(GadgetController):
    """Gadgets whose page checks their widget in the page's own statement."""

    parent = Parent(OwnedWidgetController, "widget_id", reads_by_visibility=True)


async def test_a_child_page_checked_by_visibility_is_one_statement(session: AsyncSession) -> None:
    alice, bob = principal(), principal()
    mine = await OwnedWidgetController(session, alice).create(WidgetCreate(name="mine"))
    empty = await OwnedWidgetController(session, alice).create(WidgetCreate(name="empty"))
    theirs = await OwnedWidgetController(session, bob).create(WidgetCreate(name="theirs"))
    for parent, owner in ((mine, alice), (theirs, bob)):
        await GadgetController(session, owner).create(GadgetCreate(label="g"), parent_id=parent.id)
    await session.commit()
    gadgets = ScopedGadgetController(session, alice)
    with recorded_statements(session.bind) as seen:
        page = await gadgets.list(CursorParams(), parent_id=mine.id)
        assert [g.label for g in page.items] == ["g"] and len(selects(seen)) == 1  # not BEGIN
        assert (await gadgets.list(parent_id=empty.id)).items == []  # seen: empty
        for hidden in (theirs.id, uuid.uuid4()):  # another's widget, and no widget at all
            with pytest.raises(NotFound):
                await gadgets.list(parent_id=hidden)


def test_the_controller_base_stays_small() -> None:
    """What a user reads to write a controller: at most 25 public names."""
    public = [n for n in dir(BaseController) if not n.startswith("_")]
    assert len(public) <= 25, public


@pytest.mark.parametrize(
    ("name", "value"),
    [("owner_field", "owner_id"), ("sort_fields", {}), ("read_options", ()), ("scope", None)],
)
def test_a_retired_attribute_is_refused_with_its_replacement(name: str, value: object) -> None:
    with pytest.raises(TypeError, match=rf"declares retired controller attributes: {name} -> "):
        type("Stale", (BaseController,), {name: value})
