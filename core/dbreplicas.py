"""Read replicas: read-only units read from a streaming replica that has caught up.

`ReplicaSet` holds one engine per replica (DATABASE_REPLICA_URLS) and checks each one every
DATABASE_REPLICA_CHECK_SECONDS in the background: its replay position (WAL LSN), its lag, and
whether it answers at all. A read-only unit of work (`core.routing.read_only` routes, the CRUD
router's list and get) goes to a replica that is up, at most DATABASE_REPLICA_MAX_LAG_SECONDS
behind, and — read-your-writes — has replayed the caller's own last write; otherwise it reads
from the primary. Nothing else changes: writes, `Database.autocommit()` and `fetch_one()`
(authentication) always use the primary.

Read-your-writes is by WAL position, not a time window: after a unit of work that wrote
commits, the primary's WAL insert position is stored for the caller (per principal, in Redis
when configured so every worker and container sees it; else in the process) for at most
DATABASE_REPLICA_STICKY_SECONDS. A replica serves that caller once its replay position has
passed it — usually within milliseconds, where a fixed window would pin every writer to the
primary for the whole window and still serve stale rows when lag exceeds it.
"""

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

logger = logging.getLogger("plinth.db")

NEVER = 2**63 - 1
"""A position no replica reaches: the caller reads from the primary."""
WRITE_POSITION = text("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint")
WROTE = text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
REPLICA_STATE = text(
    "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint,"
    " CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)
CHECK_TIMEOUT_SECONDS = 2.0
WROTE_KEY = "plinth.wrote"


@dataclass(eq=False)
class Replica:
    """One replica's engine (`reads`: the same, AUTOCOMMIT) and what its last check found."""

    name: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession] | None = None
    replay_lsn: int = -1
    lag_seconds: float = float("inf")
    healthy: bool = False

    def __post_init__(self) -> None:
        self.reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")


class WritePositions(Protocol):
    """Where each caller's last write position is kept for `ReplicaSet.sticky_seconds`."""

    async def get(self, caller: str) -> int:
        """The caller's last write position, or 0 (none: any fresh replica will do)."""
        ...

    async def put(self, caller: str, lsn: int, seconds: float) -> None:
        """Remember `lsn` for `caller` for `seconds`."""
        ...


@dataclass
class MemoryPositions:
    """`WritePositions` in this process (no Redis: one process serves every request)."""

    _positions: dict[str, tuple[int, float]] = field(default_factory=dict)

    async def get(self, caller: str) -> int:
        lsn, expires = self._positions.get(caller, (0, 0.0))
        return lsn if expires > time.monotonic() else 0

    async def put(self, caller: str, lsn: int, seconds: float) -> None:
        now = time.monotonic()
        if len(self._positions) > 10_000:
            self._positions = {k: v for k, v in self._positions.items() if v[1] > now}
        self._positions[caller] = (lsn, now + seconds)


class RedisPositions:
    """`WritePositions` in Redis, shared by every worker. When Redis fails, the caller reads
    from the primary (never a stale row) and a failed write position is logged."""

    PREFIX = "plinth:replica:written:"

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    async def get(self, caller: str) -> int:
        try:
            value = await self.redis.get(self.PREFIX + caller)
        except Exception as exc:
            logger.warning("write position unavailable (%s): reading the primary", exc)
            return NEVER
        return int(value) if value is not None else 0

    async def put(self, caller: str, lsn: int, seconds: float) -> None:
        try:
            await self.redis.set(self.PREFIX + caller, lsn, px=max(1, int(seconds * 1000)))
        except Exception as exc:
            logger.warning("write position not stored (%s)", exc)


class ReplicaSet:
    """The replicas of one process, checked in the background (`start`/`stop`).

    Args:
        replicas: engines on the replicas (AUTOCOMMIT: read-only units run no transaction).
        max_lag_seconds: a replica further behind is skipped.
        check_seconds: the pause between two checks of every replica.
        sticky_seconds: how long a caller's write position is kept at most.
    """

    def __init__(
        self,
        replicas: Sequence[Replica],
        *,
        max_lag_seconds: float = 5.0,
        check_seconds: float = 0.5,
        sticky_seconds: float = 30.0,
    ) -> None:
        self.replicas = list(replicas)
        self.max_lag_seconds = max_lag_seconds
        self.check_seconds = check_seconds
        self.sticky_seconds = sticky_seconds
        self.positions: WritePositions = MemoryPositions()
        self._turn = itertools.count()
        self._task: asyncio.Task[None] | None = None

    def choose(self, min_lsn: int) -> Replica | None:
        """A replica that is up, within the lag bound and has replayed `min_lsn` (taking turns
        among them), or None: read from the primary."""
        fresh = [
            r
            for r in self.replicas
            if r.healthy and r.lag_seconds <= self.max_lag_seconds and r.replay_lsn >= min_lsn
        ]
        return fresh[next(self._turn) % len(fresh)] if fresh else None

    def mark_down(self, replica: Replica) -> None:
        """Skip `replica` until its next check finds it up (a request on it failed)."""
        if replica.healthy:
            logger.warning("replica %s failed; reading from the primary", replica.name)
        replica.healthy = False

    async def required_lsn(self, caller: str | None) -> int:
        """The write position a replica must have replayed to serve `caller` (0: any)."""
        return 0 if caller is None else await self.positions.get(caller)

    async def remember_write(self, caller: str, primary: AsyncEngine) -> None:
        """Store the primary's WAL position for `caller`, after its unit of work committed."""
        async with primary.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            lsn = (await connection.execute(WRITE_POSITION)).scalar_one()
        await self.positions.put(caller, int(lsn), self.sticky_seconds)

    async def check(self, replica: Replica) -> None:
        """Read `replica`'s replay position and lag; mark it down if it does not answer."""
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                async with replica.reads.connect() as connection:
                    lsn, lag = (await connection.execute(REPLICA_STATE)).one()
        except Exception as exc:
            if replica.healthy:
                logger.warning("replica %s is down (%s)", replica.name, type(exc).__name__)
            replica.healthy = False
            return
        replica.replay_lsn = -1 if lsn is None else int(lsn)
        replica.lag_seconds = float(lag) if lsn is not None else float("inf")
        replica.healthy = lsn is not None  # None: promoted, no longer replaying

    async def check_all(self) -> None:
        """Check every replica once, side by side."""
        await asyncio.gather(*(self.check(replica) for replica in self.replicas))

    async def start(self) -> None:
        """Check every replica, then keep checking in the background."""
        await self.check_all()
        self._task = asyncio.create_task(self._watch(), name="replica-checks")

    async def stop(self) -> None:
        """Stop the checks and close the replicas' connections."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for replica in self.replicas:
            await replica.engine.dispose()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_seconds)
            await self.check_all()


class WriteTrackingSession(Session):
    """The session of units that may write, when the database has replicas: at each commit
    it notes whether the transaction wrote (holds a transaction id) — see `wrote`. One more
    statement per commit; a commit mid-way through a unit counts too."""


@event.listens_for(WriteTrackingSession, "before_commit")
def _note_writes(session: Session) -> None:
    session.flush()  # what commit would flush next: its writes count
    if session.execute(WROTE).scalar():
        session.info[WROTE_KEY] = True


def wrote(session: AsyncSession) -> bool:
    """Whether a transaction of `session` (a `WriteTrackingSession`) committed a write."""
    return bool(session.info.get(WROTE_KEY))
