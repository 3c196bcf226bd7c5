"""`ControllerService`: several controllers over one session, committed as one unit of work.

class MessengerService(ControllerService):
    async def send(self, thread_id, data):
        async with self.atomic():
            thread = await self.controller(ThreadController).get(thread_id)
            message = await self.controller(MessageController).create_in(thread, data)
        return message
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.security import Principal

logger = logging.getLogger("plinth.service")

ControllerT = TypeVar("ControllerT")
AfterCommit = Callable[[], Awaitable[None]]


class ControllerService:
    """The unit of work of a request: the only place that commits."""

    def __init__(self, session: AsyncSession, principal: Principal | None) -> None:
        self.session = session
        self.principal = principal
        self._controllers: dict[type[Any], Any] = {}
        self._depth = 0
        self._after_commit: list[AfterCommit] = []

    def controller(self, cls: type[ControllerT]) -> ControllerT:
        """The controller of `cls` bound to this service's session and principal (one each)."""
        if cls not in self._controllers:
            self._controllers[cls] = cls(self.session, self.principal)  # type: ignore[call-arg]
        return self._controllers[cls]  # type: ignore[no-any-return]

    @asynccontextmanager
    async def atomic(self, *, savepoint: bool = False) -> AsyncIterator[None]:
        """Commit once when the outermost block exits; roll everything back on any error.

        Nested blocks join the outer transaction. `savepoint=True` on a nested block lets the
        caller catch its failure and go on: only that block's writes are undone.
        """
        if self._depth:
            self._depth += 1
            try:
                if savepoint:
                    async with self.session.begin_nested():
                        yield
                else:
                    yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            yield
            await self.session.commit()
        except BaseException:
            self._after_commit.clear()
            await self.session.rollback()
            raise
        finally:
            self._depth = 0
        await self._run_after_commit()

    def after_commit(self, hook: AfterCommit) -> None:
        """Run `hook` once the outermost `atomic()` commits; dropped if it rolls back."""
        self._after_commit.append(hook)

    async def _run_after_commit(self) -> None:
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            try:
                await hook()
            except Exception:
                logger.exception("after-commit hook failed")
