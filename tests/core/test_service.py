"""ControllerService: one commit at the outermost atomic(), full rollback, after-commit hooks."""

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from core.service import ControllerService
from tests.core.models import Widget, WidgetController, WidgetCreate


async def names_in_db(database: Any) -> list[str]:
    async with database.session() as session:
        controller = WidgetController(session, None)
        return sorted(w.name for w in (await controller.list(limit=100)).items)


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
