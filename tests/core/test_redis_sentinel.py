"""Redis Sentinel (REDIS_SENTINELS): the master is killed under load and every Redis user
follows the failover — requests keep being served (limits and cache fail open meanwhile), rate
limits and events work again within seconds, and no job whose enqueue succeeded is lost.

A master, a replica and three sentinels are started once for this file, on the services leg
only: the embedded leg runs without Redis at all.
"""

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from configs.redis import RedisSettings
from core.platform.jobs import JobContext, JobQueue, JobRegistry
from core.platform.realtime.broker import RedisBroker
from core.platform.redis import RedisClient
from tests.app.users.support import API, login
from tests.conftest import LEG, client_for
from tests.helpers import bearer, create_user
from tests.jobs_support import job_queue, job_settings, wait_until, working
from tests.routers.test_cache import add_whoami
from tests.servers import RedisSentinelSet, start_redis_sentinel

pytestmark = pytest.mark.skipif(LEG != "services", reason="the embedded leg has no Redis")

RESUME_SECONDS = 10.0
"""A failover takes about 2 s here (the master is declared down after 1 s); the app then needs
a retry window of the fail-open guard (RATE_LIMIT_BACKEND_RETRY_SECONDS) to notice."""

registry = JobRegistry()
ran: set[int] = set()


@registry.job("test.sentinel_record", max_attempts=1, timeout_seconds=1)
async def sentinel_record(ctx: JobContext, n: int) -> None:
    ran.add(n)


@pytest.fixture(scope="module")
def sentinel() -> Iterator[RedisSentinelSet]:
    servers = start_redis_sentinel()
    yield servers
    servers.stop()


def sentinel_settings(servers: RedisSentinelSet) -> RedisSettings:
    # The URL's host and port are not used: the sentinels name the master.
    return RedisSettings(
        url="redis://unused:1/0",
        sentinels=servers.sentinels_setting(),
        sentinel_master=servers.name,
    )


class Load:
    """Requests, publishes and enqueues in a loop until stopped, with what each got."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        self.statuses: list[int] = []
        self.enqueued: set[int] = set()
        self.refused = 0
        self.received: list[tuple[float, bytes]] = []
        self.stop = asyncio.Event()

    async def requests(self) -> None:
        while not self.stop.is_set():
            for path in (f"{API}/users/me", "/test/whoami"):
                response = await self.client.get(path, headers=self.headers)
                self.statuses.append(response.status_code)
            await asyncio.sleep(0.01)

    async def enqueue(self, queue: JobQueue) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                await queue.enqueue("test.sentinel_record", n=n)
            except Exception:  # refused during the failover: the caller knows, none is lost
                self.refused += 1
            else:
                self.enqueued.add(n)
            await asyncio.sleep(0.02)

    async def publish(self, redis: RedisClient) -> None:
        broker = RedisBroker(redis, "plinth:realtime:test")
        while not self.stop.is_set():
            with contextlib.suppress(Exception):  # during the failover
                await broker.publish(str(time.monotonic()).encode())
            await asyncio.sleep(0.05)

    async def subscribe(self, redis: RedisClient) -> None:
        """As the hub does: read until the subscription breaks, then subscribe again."""
        while not self.stop.is_set():
            async for message in RedisBroker(redis, "plinth:realtime:test").subscribe(
                asyncio.Event()
            ):
                self.received.append((time.monotonic(), message))
            await asyncio.sleep(0.2)


@pytest.fixture
async def sentinel_queue(sentinel: RedisSentinelSet, database: Any) -> AsyncIterator[JobQueue]:
    ran.clear()
    settings = dataclasses.replace(
        job_settings(redeliver_after_seconds=5), redis=sentinel_settings(sentinel)
    )
    async with job_queue(registry, database, settings) as queue:
        yield queue


async def test_every_redis_user_follows_a_failover_under_load(
    sentinel: RedisSentinelSet,
    sentinel_queue: JobQueue,
    make_app: Callable[..., Any],
    database: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alice = await create_user(database, "alice@example.com")
    bob = await create_user(database, "bob@example.com")
    settings = sentinel_settings(sentinel)
    env = {
        "REDIS_URL": str(settings.url),
        "REDIS_SENTINELS": str(settings.sentinels),
        "REDIS_SENTINEL_MASTER": settings.sentinel_master,
        "RATE_LIMIT_USER": "100000/1m",
        "RATE_LIMIT_LOGIN_ACCOUNT": "3/15m",
    }
    async with make_app(**env) as app, client_for(app) as client, working(sentinel_queue) as settle:
        add_whoami(app)
        load = Load(client, bearer(alice))
        tasks = [
            asyncio.create_task(work)
            for work in (
                load.requests(),
                load.requests(),
                load.enqueue(sentinel_queue),
                load.publish(app.state.redis),
            )
        ]
        subscriber = asyncio.create_task(load.subscribe(app.state.redis))
        await asyncio.sleep(1.0)
        unconfirmed_before = [r for r in caplog.records if "master only" in r.getMessage()]
        old = sentinel.kill_master()
        killed_at = time.monotonic()
        await asyncio.to_thread(sentinel.wait_for_failover, old)

        async def limits_work() -> bool:
            answer = await client.get(f"{API}/users/me", headers=bearer(bob))
            return "X-RateLimit-Remaining" in answer.headers

        async def events_flow() -> bool:
            return any(at > killed_at + 0.5 and float(m) > killed_at for at, m in load.received)

        await wait_until(limits_work, RESUME_SECONDS)
        await wait_until(events_flow, RESUME_SECONDS)
        resumed_after = time.monotonic() - killed_at
        await asyncio.sleep(0.5)
        load.stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        subscriber.cancel()  # it waits for the next message, and none comes now
        await settle()

        wrong = [await login(client, "bob@example.com", "wrong password") for _ in range(4)]
        caplog.clear()
        await sentinel_queue.enqueue("test.sentinel_record", n=0)  # the new master: no replica
        unconfirmed_after = [r for r in caplog.records if "master only" in r.getMessage()]
    assert sentinel.master_port() != old
    assert set(load.statuses) == {200}, "limits and cache fail open: no request failed"
    assert len(load.statuses) > 50
    assert resumed_after < RESUME_SECONDS
    assert [r.status_code for r in wrong] == [401, 401, 401, 429]  # enforced on the new master
    assert len(load.enqueued) > 20
    assert load.enqueued <= ran, f"lost jobs: {sorted(load.enqueued - ran)}"
    assert unconfirmed_before == []  # every job sent before the kill was on the replica too
    assert len(unconfirmed_after) == 1  # WAIT counts replicas: the new master has none
