"""The request side of read replicas (`core.dbreplicas`): which unit of work a request gets,
and a request whose replica failed answered again from the primary.

`routed_unit_of_work` is what `core.deps.get_session` opens when the database has replicas:
a read-only route reads from a fresh replica (see `ReplicaSet.choose`); any other route runs
on the primary, and once it committed a write the caller's WAL position is stored, so its
next reads wait for a replica that has replayed it. The caller is the principal; anonymous
requests have no own writes to wait for.

A replica that goes down between two checks fails the requests on it. The unit of work marks
it down and flags the request; `ReplicaFallbackMiddleware` drops that error response before
anything is sent and runs the request once more, on the primary — read-only routes are GET
routes without side effects, so running one twice is safe. No 5xx reaches the client. A read
the replica cancelled for a recovery conflict is answered again the same way.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.context import request_state
from core.db import Database
from core.dbconnect import DatabaseUnavailable, is_unreachable
from core.dbreplicas import ReplicaSet, wrote
from core.service import unit_of_work

REPLICA_FAILED = "plinth.replica_failed"
PRIMARY_ONLY = "plinth.primary_only"


def caller_of(connection: HTTPConnection) -> str | None:
    """The key of the caller's write position: the principal's id, if authenticated."""
    principal = request_state(connection).get("principal")
    return None if principal is None else str(principal.id)


def is_replica_failure(exc: BaseException) -> bool:
    """Whether `exc` says the server is gone (a read elsewhere would succeed)."""
    if isinstance(exc, DatabaseUnavailable | OSError):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or is_unreachable(exc.orig or exc)
    return False


def is_recovery_conflict(exc: BaseException) -> bool:
    """Whether the replica cancelled the statement because replay needed its rows (SQLSTATE
    40001 on a standby): the replica is fine, the read succeeds on the primary."""
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, DBAPIError) and sqlstate == "40001"


@asynccontextmanager
async def routed_unit_of_work(
    connection: HTTPConnection, database: Database, replicas: ReplicaSet, *, read_only: bool
) -> AsyncIterator[AsyncSession]:
    """The request's unit of work when the database has replicas (see the module docstring)."""
    caller = caller_of(connection)
    if not read_only:
        async with unit_of_work(database) as session:
            yield session
        if caller is not None and wrote(session):
            await replicas.remember_write(caller, database.engine)
        return
    replica = None
    if not connection.scope.get(PRIMARY_ONLY):
        replica = replicas.choose(await replicas.required_lsn(caller))
    try:
        async with unit_of_work(database, read_only=True, replica=replica) as session:
            yield session
    except Exception as exc:
        if replica is None:
            raise
        if is_replica_failure(exc):
            replicas.mark_down(replica)
        elif not is_recovery_conflict(exc):
            raise
        connection.scope[REPLICA_FAILED] = True
        raise


class ReplicaFallbackMiddleware:
    """Runs a request again on the primary when its replica failed (before any byte was
    sent); installed only when DATABASE_REPLICA_URLS is set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return

        async def send_unless_failed(message: Message) -> None:
            if not scope.get(REPLICA_FAILED):
                await send(message)

        await self.app(scope, receive, send_unless_failed)
        if scope.pop(REPLICA_FAILED, False):
            scope[PRIMARY_ONLY] = True
            await self.app(scope, receive, send)
