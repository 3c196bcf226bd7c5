"""ControllerService: one commit at the outermost atomic(), full rollback, after-commit hooks."""

from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import ReadOnlyViolation
from core.errors import Conflict
from core.pagination import OffsetParams
from core.service import ControllerService, unit_of_work
from tests.core.models import Widget, WidgetController, WidgetCreate


async def names_in_db(database: Any) -> list[str]:
    async with database.session() as session:
        controller = WidgetController(session, None)
        return sorted(w.name for w in (await controller.list(OffsetParams(limit=100))).items)


async def test_atomic_commits_every_step(session: AsyncSession, database: Any) -> None:
    service = ControllerService(session, None)
    async with service.atomic():
        await service.controller(WidgetController).create(WidgetCreate(name="a"))
        async with service.atomic():
            await service.controller(WidgetController).create(WidgetCreate(name="b"))
    assert await names_in_db(database) == ["a", "b"]


async def test_a_failing_later_step_rolls_back_all_writes(
    session: AsyncSession, database: Any
) -> None:
    await WidgetController(session, None).create(WidgetCreate(name="taken"))
    await session.commit()
    service = ControllerService(session, None)
    with pytest.raises(Conflict):
        async with service.atomic():
            widgets = service.controller(WidgetController)
            await widgets.create(WidgetCreate(name="first"))
            await widgets.create(WidgetCreate(name="second"))
            await widgets.create(WidgetCreate(name="taken"))
    assert await names_in_db(database) == ["taken"]


async def test_inner_block_does_not_commit_early(session: AsyncSession, database: Any) -> None:
    service = ControllerService(session, None)
    with pytest.raises(RuntimeError):
        async with service.atomic():
            async with service.atomic():
                await service.controller(WidgetController).create(WidgetCreate(name="inner"))
            raise RuntimeError("after the inner block")
    assert await names_in_db(database) == []


async def test_savepoint_block_tolerates_its_own_failure(
    session: AsyncSession, database: Any
) -> None:
    await WidgetController(session, None).create(WidgetCreate(name="taken"))
    await session.commit()
    service = ControllerService(session, None)
    async with service.atomic():
        await service.controller(WidgetController).create(WidgetCreate(name="kept"))
        with pytest.raises(Conflict):
            async with service.atomic(savepoint=True):
                await service.controller(WidgetController).create(WidgetCreate(name="taken"))
    assert await names_in_db(database) == ["kept", "taken"]


async def test_after_commit_runs_only_after_a_commit(session: AsyncSession) -> None:
    ran: list[str] = []
    service = ControllerService(session, None)

    async def hook() -> None:
        ran.append("published")

    with pytest.raises(ValueError, match="boom"):
        async with service.atomic():
            service.after_commit(hook)
            raise ValueError("boom")
    assert ran == []
    async with service.atomic():
        service.after_commit(hook)
        assert ran == []
    assert ran == ["published"]


async def test_a_failing_hook_does_not_undo_the_commit(
    session: AsyncSession, database: Any
) -> None:
    service = ControllerService(session, None)

    async def broken() -> None:
        raise RuntimeError("queue down")

    async with service.atomic():
        service.after_commit(broken)
        session.add(Widget(name="saved"))
    assert await names_in_db(database) == ["saved"]


async def test_controllers_share_the_service_session(session: AsyncSession) -> None:
    service = ControllerService(session, None)
    assert service.controller(WidgetController) is service.controller(WidgetController)
    assert service.controller(WidgetController).session is session


# -- the read-only unit of work --------------------------------------------------------------


async def test_a_read_only_unit_reads_and_refuses_every_write(database: Any) -> None:
    async with unit_of_work(database) as session:
        session.add(Widget(name="kept", size=1))
    async with unit_of_work(database, read_only=True) as session:
        widgets = WidgetController(session, None)
        [kept] = (await widgets.list(OffsetParams(limit=10))).items
        assert kept.name == "kept"
        writes = [
            update(Widget).values(size=2),
            insert(Widget).values(name="sneaked", size=1),
            delete(Widget),
            select(Widget).with_for_update(),
        ]
        for statement in writes:
            with pytest.raises(ReadOnlyViolation):
                await session.execute(statement)
        with pytest.raises(ReadOnlyViolation):  # plain rows run on the connection: refused too
            await widgets.repository.rows(widgets.repository.select().with_for_update())
    with pytest.raises(ReadOnlyViolation):  # its commit would flush the changes: refused
        async with unit_of_work(database, read_only=True) as session:
            [kept] = (await WidgetController(session, None).list(OffsetParams(limit=10))).items
            kept.size = 3
            session.add(Widget(name="added", size=1))
    async with database.session() as session:
        rows = (await session.execute(select(Widget.name, Widget.size))).all()
    assert [tuple(row) for row in rows] == [("kept", 1)]


async def test_a_read_only_unit_runs_without_a_transaction(leg: Any, database: Any) -> None:
    """On PostgreSQL each of its statements is a transaction of its own (no BEGIN/COMMIT round
    trips): two statements see two transaction start times. In an ordinary unit they share
    one."""
    if not leg.is_services:
        pytest.skip("SQLite's read-only unit is an ordinary transaction")
    now = select(func.now())
    for read_only, same in ((False, True), (True, False)):
        async with unit_of_work(database, read_only=read_only) as session:
            first, second = await session.scalar(now), await session.scalar(now)
        assert (first == second) is same
