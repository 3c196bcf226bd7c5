"""The job system on this leg: delivery, retries with backoff, failed-job records, timeouts,
once-only side effects, cron claims, enqueue-after-commit (Redis stream on the services leg,
in-process on the embedded one — the same code path)."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from core.platform.jobs import (
    FailedJob,
    JobContext,
    JobQueue,
    JobRegistry,
    enqueue_after_commit,
)
from core.platform.jobs.queue import set_current_queue
from core.platform.jobs.runner import backoff_seconds
from core.platform.jobs.scheduler import Scheduler, check_expression, next_tick
from core.platform.jobs.worker import Worker
from core.service import ControllerService, unit_of_work
from tests.jobs_support import job_queue, job_settings, working

calls: list[tuple[str, dict[str, Any], int]] = []
registry = JobRegistry()


@registry.job("test.record")
async def record(ctx: JobContext, **kwargs: Any) -> None:
    calls.append((ctx.job, kwargs, ctx.attempt))


@registry.job("test.fail_always", max_attempts=3)
async def fail_always(ctx: JobContext, reason: str) -> None:
    calls.append((ctx.job, {"reason": reason}, ctx.attempt))
    raise RuntimeError(reason)


@registry.job("test.fail_once")
async def fail_once(ctx: JobContext) -> None:
    calls.append((ctx.job, {}, ctx.attempt))
    if ctx.attempt == 1:
        raise ConnectionError("try again")


@registry.job("test.hang", max_attempts=2, timeout_seconds=0.05)
async def hang(ctx: JobContext) -> None:
    calls.append((ctx.job, {}, ctx.attempt))
    await asyncio.Event().wait()


registry.schedule(record, cron="* * * * * *", source="cron")


@pytest.fixture(autouse=True)
def clear_calls() -> None:
    calls.clear()


async def failed_rows(database: Any) -> list[FailedJob]:
    async with database.session() as session:
        return list((await session.execute(select(FailedJob))).scalars())


async def test_a_job_runs_once_with_its_arguments(database: Any) -> None:
    async with job_queue(registry, database) as queue, working(queue) as settle:
        task_id = await queue.enqueue(record, to="alice@example.com", n=2)
        await settle()
    assert task_id
    assert calls == [("test.record", {"to": "alice@example.com", "n": 2}, 1)]


async def test_a_failing_job_is_retried_then_recorded_never_forever(database: Any) -> None:
    async with job_queue(registry, database) as queue, working(queue) as settle:
        await queue.enqueue("test.fail_always", reason="smtp down")
        await settle()
    assert [attempt for _, _, attempt in calls] == [1, 2, 3]
    [row] = await failed_rows(database)
    assert (row.job, row.attempts, row.arguments) == (
        "test.fail_always",
        3,
        {"reason": "smtp down"},
    )
    assert row.error == "RuntimeError: smtp down"
    assert row.worker == queue.worker


async def test_a_job_that_fails_once_succeeds_on_its_retry(database: Any) -> None:
    async with job_queue(registry, database) as queue, working(queue) as settle:
        await queue.enqueue("test.fail_once")
        await settle()
    assert [attempt for _, _, attempt in calls] == [1, 2]
    assert await failed_rows(database) == []


async def test_an_attempt_over_its_timeout_fails_and_is_recorded(database: Any) -> None:
    async with job_queue(registry, database) as queue, working(queue) as settle:
        await queue.enqueue("test.hang")
        await settle()
    [row] = await failed_rows(database)
    assert (row.attempts, row.error) == (2, "TimeoutError")


async def test_a_message_delivered_too_often_is_recorded_without_running(database: Any) -> None:
    async with job_queue(registry, database, job_settings(max_deliveries=2)) as queue:
        for _ in range(2):  # two earlier deliveries died with their workers
            await queue.store.count_delivery("task-1", 60)
        await queue.deliver(registry.jobs["test.record"], "task-1", {}, {"x": 1})
    assert calls == []
    [row] = await failed_rows(database)
    assert row.attempts == 0
    assert "delivered 3 times" in row.error


async def test_once_lets_a_side_effect_happen_a_single_time(database: Any) -> None:
    async with job_queue(registry, database) as queue:
        ctx = queue._context(registry.jobs["test.record"], "t", {})
        assert await ctx.once("mail:1") is True
        assert await ctx.once("mail:1") is False
        await ctx.undo("mail:1")
        assert await ctx.once("mail:1") is True


def test_backoff_doubles_up_to_its_cap() -> None:
    jobs = job_settings(retry_base_seconds=2, retry_max_seconds=10).jobs
    assert [backoff_seconds(n, jobs) for n in range(1, 6)] == [2, 4, 8, 10, 10]


async def test_unknown_jobs_are_refused(database: Any) -> None:
    async with job_queue(registry, database) as queue:
        with pytest.raises(KeyError, match="unknown job"):
            await queue.enqueue("test.nope")


def test_a_job_longer_than_the_redelivery_window_is_refused(database: Any) -> None:
    settings = job_settings(redeliver_after_seconds=1, timeout_seconds=5)
    with pytest.raises(ValueError, match="JOBS_REDELIVER_AFTER_SECONDS"):
        JobQueue(registry, settings, database)


def test_cron_expressions() -> None:
    start = datetime(2026, 1, 1, 10, 0, 30, tzinfo=UTC)
    assert next_tick("17 * * * *", start) == datetime(2026, 1, 1, 10, 17, tzinfo=UTC)
    assert next_tick("* * * * * */10", start) == datetime(2026, 1, 1, 10, 0, 40, tzinfo=UTC)
    with pytest.raises(ValueError, match="invalid cron expression"):
        check_expression("every hour")


async def test_each_tick_is_claimed_by_one_scheduler_only(database: Any) -> None:
    """Two schedulers (two queues, as two workers have) race for the same ticks."""
    tick = datetime(2026, 1, 1, 10, 0, 0, tzinfo=UTC)
    async with job_queue(registry, database) as first, job_queue(registry, database) as second:
        if first.in_process:  # one process on the embedded default: one in-process store
            second.store = first.store
        [(schedule, _)] = Scheduler(first).schedules
        async with working(first) as settle:
            won = [await Scheduler(q).fire(schedule, tick) for q in (first, second, second)]
            won += [
                await Scheduler(q).fire(schedule, tick.replace(second=1)) for q in (second, first)
            ]
            await settle()
    assert won == [True, False, False, True, False]
    assert sorted(kwargs["source"] for _, kwargs, _ in calls) == ["cron", "cron"]


async def test_enqueue_after_commit_sends_only_committed_work(database: Any) -> None:
    async with job_queue(registry, database) as queue, working(queue) as settle:
        set_current_queue(queue)
        try:
            with pytest.raises(RuntimeError):
                async with unit_of_work(database) as session:
                    service = ControllerService(session, None)
                    enqueue_after_commit(service, record, step="rolled back")
                    raise RuntimeError("the request failed")
            async with unit_of_work(database) as session:
                enqueue_after_commit(ControllerService(session, None), record, step="committed")
                assert calls == []  # not before the commit
            await settle()
        finally:
            set_current_queue(None)
    assert calls == [("test.record", {"step": "committed"}, 1)]


def test_enqueue_after_commit_without_a_queue_fails_inside_the_request() -> None:
    class Unit:
        def after_commit(self, hook: Any) -> None:
            raise AssertionError("must not be reached")

    with pytest.raises(RuntimeError, match="not running"):
        enqueue_after_commit(Unit(), record)


async def test_a_worker_told_to_stop_stops_every_time(database: Any) -> None:
    """A stop right after the worker's first read: taskiq cancels that read, and redis-py on
    Python 3.11 can swallow the cancellation; the worker must stop all the same."""
    async with job_queue(registry, database) as queue:
        if queue.in_process:
            pytest.skip("no worker on the embedded default: jobs run in the API process")
        for attempt in range(60):
            stop = asyncio.Event()
            task = asyncio.create_task(Worker(queue).run(stop))
            await asyncio.sleep(0.001 * (attempt % 50))
            stop.set()
            done, _ = await asyncio.wait({task}, timeout=10)
            if not done:
                task.cancel()
                pytest.fail(f"the worker did not stop within 10 s (stop {attempt + 1})")
            task.result()
