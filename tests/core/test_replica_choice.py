"""Which replica a read goes to (`ReplicaSet.choose`) and where a caller's write position is
kept: no server needed, so both legs run it."""

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import create_async_engine

from core.dbreplicas import NEVER, MemoryPositions, RedisPositions, Replica, ReplicaSet


def replica(name: str, *, lsn: int, lag: float = 0.0, healthy: bool = True) -> Replica:
    engine = create_async_engine(f"postgresql+asyncpg://u@127.0.0.1:1/{name}")  # never used
    return Replica(name, engine, replay_lsn=lsn, lag_seconds=lag, healthy=healthy)


@pytest.fixture
async def replicas() -> AsyncIterator[ReplicaSet]:
    members = [
        replica("fresh", lsn=500),
        replica("behind", lsn=100),
        replica("lagging", lsn=900, lag=10.0),
        replica("down", lsn=900, healthy=False),
    ]
    yield ReplicaSet(members, max_lag_seconds=5.0)
    for member in members:
        await member.engine.dispose()


def test_only_a_replica_up_within_the_lag_bound_that_has_the_write_serves(
    replicas: ReplicaSet,
) -> None:
    assert {replicas.choose(0).name for _ in range(6)} == {"fresh", "behind"}  # type: ignore[union-attr]
    assert replicas.choose(300).name == "fresh"  # type: ignore[union-attr]
    assert replicas.choose(501) is None  # the primary: no replica has replayed it


def test_a_replica_marked_down_is_skipped(replicas: ReplicaSet) -> None:
    fresh = replicas.choose(300)
    assert fresh is not None
    replicas.mark_down(fresh)
    assert replicas.choose(300) is None


async def test_a_write_position_is_kept_for_the_sticky_window_only() -> None:
    positions = MemoryPositions()
    await positions.put("alice", 42, seconds=60)
    await positions.put("bob", 7, seconds=-1)
    assert [await positions.get(who) for who in ("alice", "bob", "carol")] == [42, 0, 0]


async def test_without_redis_the_caller_reads_from_the_primary() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        positions = RedisPositions(client)
        assert await positions.get("alice") == NEVER
        await positions.put("alice", 42, seconds=30)  # logged, not raised
    finally:
        await client.aclose()
