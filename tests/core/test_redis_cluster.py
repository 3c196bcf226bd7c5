"""Every Redis user on a real three-master Redis Cluster (REDIS_CLUSTER=true): rate limits (the
multi-bucket login script included), the response cache, realtime tickets, slots and fan-out,
and a job's round trip through the stream.

The cluster is started once for this file, on the services leg only: the embedded leg runs
without Redis at all.
"""

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from configs.ratelimit import Rate
from configs.redis import RedisSettings
from core.platform.jobs import JobContext, JobRegistry
from core.platform.ratelimit.backend import Bucket
from core.platform.realtime.broker import RedisBroker
from core.platform.realtime.protocol import Grant
from core.platform.realtime.store import RedisSlotStore, RedisTicketStore
from core.platform.redis import RedisClient, create_redis
from tests.app.users.support import API, login
from tests.conftest import LEG, client_for
from tests.helpers import bearer, create_user
from tests.jobs_support import job_queue, job_settings, working
from tests.ports import refused_port
from tests.routers.test_cache import add_whoami
from tests.servers import RedisClusterSet, start_redis_cluster

pytestmark = pytest.mark.skipif(LEG != "services", reason="the embedded leg has no Redis")

registry = JobRegistry()
ran: list[dict[str, Any]] = []


@registry.job("test.cluster_record")
async def cluster_record(ctx: JobContext, **kwargs: Any) -> None:
    ran.append(kwargs)


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterSet]:
    nodes = start_redis_cluster()
    yield nodes
    nodes.stop()


@pytest.fixture
async def redis(cluster: RedisClusterSet) -> AsyncIterator[RedisClient]:
    """A cluster client, on an empty cluster."""
    cluster.flush()
    client = create_redis(RedisSettings(url=cluster.url(), cluster=True), timeout_seconds=5)
    yield client
    await client.aclose()


def cluster_env(cluster: RedisClusterSet) -> dict[str, str]:
    return {"REDIS_URL": cluster.url(), "REDIS_CLUSTER": "true"}


def test_buckets_charged_together_share_a_slot_and_others_spread() -> None:
    rate = Rate(times=3, seconds=60)
    login_buckets = [
        Bucket("login:alice", rate, "login"),
        Bucket("login:ip:10.0.0.1", rate, "login"),
    ]
    assert len({key_slot(bucket.redis_key.encode()) for bucket in login_buckets}) == 1
    users = [Bucket(f"GET /users/{{id}}:user:{n}", rate) for n in range(20)]
    assert len({key_slot(bucket.redis_key.encode()) for bucket in users}) > 10


async def test_limits_and_cache_through_http_on_a_cluster(
    cluster: RedisClusterSet, make_app: Callable[..., Any], database: Any
) -> None:
    cluster.flush()
    alice = await create_user(database, "alice@example.com")
    env = {**cluster_env(cluster), "RATE_LIMIT_LOGIN_ACCOUNT": "3/15m"}
    async with make_app(**env, RATE_LIMIT_ANONYMOUS="20/1m") as app, client_for(app) as client:
        add_whoami(app)
        wrong = [await login(client, "alice@example.com", "wrong password") for _ in range(3)]
        late = await login(client, "alice@example.com")
        anonymous = await asyncio.gather(*(client.get(f"{API}/users/me") for _ in range(30)))
        first = await client.get("/test/whoami", headers=bearer(alice))
        again = await client.get("/test/whoami", headers=bearer(alice))
    assert [r.status_code for r in wrong] == [401, 401, 401]
    assert late.status_code == 429  # three buckets, one script, one slot
    codes = sorted(r.status_code for r in anonymous)
    assert codes == [401] * 16 + [429] * 14  # the logins spent 4 of this IP's 20
    assert [first.headers["X-Cache"], again.headers["X-Cache"]] == ["MISS", "HIT"]
    assert first.json() == again.json() == {"id": str(alice.id)}


async def test_tickets_and_connection_slots_on_a_cluster(redis: RedisClient) -> None:
    tickets = RedisTicketStore(redis, "plinth:rt")
    grant = Grant(uuid.uuid4(), "session")
    ticket = await tickets.issue(grant, 30)
    assert await tickets.redeem(ticket) == grant
    assert await tickets.redeem(ticket) is None  # single use

    slots = RedisSlotStore(redis, "plinth:rt")
    users = [uuid.uuid4() for _ in range(6)]
    assert [await slots.acquire(users[0], f"c{n}", 2, 30) for n in range(3)] == [True, True, False]
    for user in users[1:]:
        assert await slots.acquire(user, "c0", 1, 30)
    await slots.refresh([(user, "c0") for user in users], 30)  # one pipeline, many slots
    await slots.release(users[0], "c0")
    assert await slots.acquire(users[0], "c9", 2, 30)


async def test_an_event_published_on_any_node_reaches_the_subscriber(
    redis: RedisClient, cluster: RedisClusterSet
) -> None:
    ready = asyncio.Event()
    received: list[bytes] = []

    async def listen() -> None:
        async for message in RedisBroker(redis, "plinth:realtime").subscribe(ready):
            received.append(message)
            if len(received) == len(cluster.nodes):
                return

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 5)
    for n, node in enumerate(cluster.nodes):  # classic PUBLISH crosses the cluster bus
        publisher = Redis.from_url(node.url())
        await RedisBroker(publisher, "plinth:realtime").publish(f"event {n}".encode())
        await publisher.aclose()
    await asyncio.wait_for(listener, 10)
    assert received == [f"event {n}".encode() for n in range(len(cluster.nodes))]


async def test_a_job_round_trip_on_a_cluster(cluster: RedisClusterSet, database: Any) -> None:
    cluster.flush()
    ran.clear()
    settings = dataclasses.replace(
        job_settings(), redis=RedisSettings(url=cluster.url(), cluster=True)
    )
    async with job_queue(registry, database, settings) as queue, working(queue) as settle:
        await queue.enqueue("test.cluster_record", n=1)
        await queue.enqueue("test.cluster_record", n=2)
        await settle()
        assert await queue.depth() == 0
    assert sorted(job["n"] for job in ran) == [1, 2]


async def test_an_unreachable_cluster_fails_open(
    make_app: Callable[..., Any], database: Any
) -> None:
    alice = await create_user(database, "alice@example.com")
    with refused_port() as port:
        env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "REDIS_CLUSTER": "true"}
        async with make_app(**env) as app, client_for(app) as client:
            add_whoami(app)
            answers = [
                await client.get(path, headers=bearer(alice))
                for path in ("/test/whoami", "/test/whoami", f"{API}/users/me")
            ]
    assert [r.status_code for r in answers] == [200, 200, 200]  # served, uncached, unlimited
    assert answers[1].headers["X-Cache"] == "MISS"
    assert "X-RateLimit-Remaining" not in answers[2].headers  # the limit failed open
