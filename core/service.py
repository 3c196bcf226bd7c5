"""The unit of work, and `ControllerService`: several controllers over one session.

Every request runs in one unit of work: `core.deps.get_session` opens it, the route's
controllers and services write through it, and it commits before the response is sent — or
rolls back on any error. Nothing opens a transaction by hand. A use case that spans entities
is a `ControllerService` reaching its controllers with `self.controller(Cls)`, all over the
request's one session (`AuthService` in app/users/service.py is one).

Code outside a request (CLI, jobs, tests) opens the same unit with `unit_of_work(database)`.
`atomic()` remains for nesting and savepoints; `after_commit()` for side effects (publish,
enqueue) that must happen only once the data is committed.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.dbreplicas import Replica
from core.errors import Conflict, Unauthorized
from core.security import Principal, Scope

if TYPE_CHECKING:
    from core.controller import BaseController

logger = logging.getLogger("plinth.service")

SessionBoundT = TypeVar("SessionBoundT", bound="SessionBound")
ControllerT = TypeVar("ControllerT", bound="BaseController[Any, Any, Any, Any]")
ServiceT = TypeVar("ServiceT", bound="ControllerService")
AfterCommit = Callable[[], Awaitable[None]]
_SESSION_KEY = "unit_of_work"


class UnitOfWork:
    """The transaction of one session: commit once, roll back everything on error, then run
    the after-commit hooks. One per session (`UnitOfWork.of(session)`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._depth = 0
        self._after_commit: list[AfterCommit] = []
        self._bound: dict[tuple[type[Any], Principal | None], SessionBound] = {}

    @classmethod
    def of(cls, session: AsyncSession) -> "UnitOfWork":
        """The session's unit of work (made on first use)."""
        work = session.info.get(_SESSION_KEY)
        if work is None:
            work = session.info[_SESSION_KEY] = cls(session)
        return work

    def bound(self, cls: type[SessionBoundT], principal: Principal | None) -> SessionBoundT:
        """One `cls(session, principal)` per unit of work, shared by everything in it."""
        key = (cls, principal)
        found = self._bound.get(key)
        if found is None:
            found = self._bound[key] = cls(self.session, principal)
        assert isinstance(found, cls)
        return found

    async def commit(self) -> None:
        """Commit now and run the after-commit hooks. The request's unit of work does this
        before the response; call it mid-way only to end a transaction early (e.g. to free
        the connection before slow work). A constraint violation at commit is a `Conflict`.
        A session that never began a transaction has nothing to commit (a route that never
        touched the database): only its hooks run."""
        session = self.session
        try:
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                await session.commit()
        except IntegrityError as exc:
            await self.rollback()
            raise Conflict("The change conflicts with existing data.") from exc
        except BaseException:
            await self.rollback()
            raise
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            try:
                await hook()
            except Exception:
                logger.exception("after-commit hook failed")

    async def rollback(self) -> None:
        """Undo everything since the last commit and drop the pending after-commit hooks."""
        self._after_commit.clear()
        await self.session.rollback()

    @asynccontextmanager
    async def atomic(self, *, savepoint: bool = False) -> AsyncIterator[None]:
        """A block that commits when it is the outermost one and rolls back on any error.

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
        except BaseException:
            self._depth = 0
            await self.rollback()
            raise
        self._depth = 0
        await self.commit()

    def after_commit(self, hook: AfterCommit) -> None:
        """Run `hook` once the unit of work commits; dropped if it rolls back."""
        self._after_commit.append(hook)


@asynccontextmanager
async def unit_of_work(
    database: Database, *, read_only: bool = False, replica: Replica | None = None
) -> AsyncIterator[AsyncSession]:
    """A session whose work commits when the block exits normally and rolls back otherwise —
    what every request gets (`core.deps.get_session`), for CLI commands, jobs and tests.
    `read_only=True`: a unit that only reads, without a transaction on PostgreSQL (see
    `Database.session`); routes get one when marked `core.routing.read_only`, on `replica`
    when the database has a fresh one (`core.deps.get_session`)."""
    async with database.session(read_only=read_only, replica=replica) as session:
        work = UnitOfWork.of(session)
        try:
            yield session
        except BaseException:
            await work.rollback()
            raise
        await work.commit()


class SessionBound:
    """Built per request (or job) from its session and caller: the base of controllers and
    services, so both spell "the caller" and "after commit" the same way."""

    def __init__(self, session: AsyncSession, principal: Principal | None) -> None:
        self.session = session
        self.principal = principal

    @property
    def me(self) -> Principal:
        """The authenticated caller; 401 for anonymous callers."""
        if self.principal is None:
            raise Unauthorized()
        return self.principal

    def after_commit(self, hook: AfterCommit) -> None:
        """Run `hook` once this unit of work commits; dropped if it rolls back."""
        UnitOfWork.of(self.session).after_commit(hook)

    def _bound(self, cls: type[SessionBoundT]) -> SessionBoundT:
        """The one `cls` of this unit of work and caller."""
        return UnitOfWork.of(self.session).bound(cls, self.principal)


class ControllerService(SessionBound):
    """Use cases that span several controllers or repositories, in the request's unit of work.

    Reach controllers with `self.controller(Cls)` and other services with `self.service(Cls)`;
    they share this session and caller. Controllers never call services.
    """

    def controller(self, cls: type[ControllerT]) -> ControllerT:
        """The `cls` controller on this session for this caller, one per unit of work."""
        return self._bound(cls)

    def service(self, cls: type[ServiceT]) -> ServiceT:
        """The `cls` service on this session for this caller, one per unit of work."""
        return self._bound(cls)

    @property
    def is_admin(self) -> bool:
        """Whether the caller holds the `admin` scope (or a higher one)."""
        return self.principal is not None and self.principal.has(Scope.ADMIN)

    @property
    def unit_of_work(self) -> UnitOfWork:
        """The unit of work of this session."""
        return UnitOfWork.of(self.session)

    def atomic(self, *, savepoint: bool = False) -> AbstractAsyncContextManager[None]:
        """See `UnitOfWork.atomic`: for nesting and savepoints, never needed around a route."""
        return self.unit_of_work.atomic(savepoint=savepoint)

    async def commit(self) -> None:
        """See `UnitOfWork.commit`: end the transaction early (before slow work)."""
        await self.unit_of_work.commit()
