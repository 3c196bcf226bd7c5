"""/api/v1/admin/jobs: queue status and failed jobs (list, read, retry, delete), admins only."""

import uuid
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from core.db import utcnow
from core.platform.jobs import FailedJob
from tests.helpers import bearer, create_user

URL = "/api/v1/admin/jobs"


async def seed(database: Any, *jobs: str) -> list[FailedJob]:
    now = utcnow()
    rows = [
        FailedJob(
            job=job,
            task_id=f"task-{n}",
            arguments={"n": n},
            error="RuntimeError: boom",
            attempts=5,
            worker="host:1",
            created_at=now - timedelta(minutes=n),
        )
        for n, job in enumerate(jobs)
    ]
    async with database.session() as session:
        session.add_all(rows)
        await session.commit()
    return rows


async def admin(database: Any) -> dict[str, str]:
    return bearer(await create_user(database, "admin@example.com", scopes=["regular", "admin"]))


async def test_regular_users_are_refused(client: httpx.AsyncClient, database: Any) -> None:
    headers = bearer(await create_user(database))
    assert (await client.get(f"{URL}/failed", headers=headers)).status_code == 403
    assert (await client.get(URL)).status_code == 401


async def test_status_shows_depth_and_workers(
    client: httpx.AsyncClient, database: Any, leg: Any
) -> None:
    body = (await client.get(URL, headers=await admin(database))).json()
    expected = {"queue_depth": 0, "workers_alive": 0, "in_process": False}
    if not leg.is_services:
        expected = {"queue_depth": 0, "workers_alive": 1, "in_process": True}
    assert body == expected


async def test_failed_jobs_newest_first_in_pages_and_by_job(
    client: httpx.AsyncClient, database: Any
) -> None:
    await seed(database, "a.job", "b.job", "a.job")
    headers = await admin(database)
    first = (await client.get(f"{URL}/failed", params={"limit": 2}, headers=headers)).json()
    assert [item["task_id"] for item in first["items"]] == ["task-0", "task-1"]
    assert first["items"][0]["error"] == "RuntimeError: boom"
    assert first["items"][0]["attempts"] == 5
    params = {"limit": 2, "cursor": first["next_cursor"]}
    second = (await client.get(f"{URL}/failed", params=params, headers=headers)).json()
    assert [item["task_id"] for item in second["items"]] == ["task-2"]
    assert second["has_more"] is False
    only_b = (await client.get(f"{URL}/failed", params={"job": "b.job"}, headers=headers)).json()
    assert [item["job"] for item in only_b["items"]] == ["b.job"]


async def test_read_and_delete_one(client: httpx.AsyncClient, database: Any) -> None:
    [row] = await seed(database, "a.job")
    headers = await admin(database)
    body = (await client.get(f"{URL}/failed/{row.id}", headers=headers)).json()
    assert (body["job"], body["arguments"]) == ("a.job", {"n": 0})
    assert (await client.delete(f"{URL}/failed/{row.id}", headers=headers)).status_code == 204
    missing = await client.get(f"{URL}/failed/{row.id}", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    bad = await client.get(f"{URL}/failed/not-a-uuid", headers=headers)
    assert bad.status_code == 422


async def test_retry_sends_the_job_again_and_drops_the_record(
    app: FastAPI, client: httpx.AsyncClient, database: Any
) -> None:
    [row] = await seed(database, "platform.purge_request_logs")
    async with database.session() as session:
        row.arguments = {}
        await session.merge(row)
        await session.commit()
    headers = await admin(database)
    response = await client.post(f"{URL}/failed/{row.id}/retry", headers=headers)
    assert response.status_code == 202
    assert response.json()["task_id"]
    await app.state.jobs.drain()
    async with database.session() as session:
        assert (await session.execute(select(FailedJob))).scalars().all() == []


async def test_retrying_a_job_no_longer_registered_is_a_409(
    client: httpx.AsyncClient, database: Any
) -> None:
    [row] = await seed(database, "gone.job")
    headers = await admin(database)
    response = await client.post(f"{URL}/failed/{row.id}/retry", headers=headers)
    assert response.status_code == 409
    assert "gone.job" in response.json()["detail"]
    missing = await client.post(f"{URL}/failed/{uuid.uuid4()}/retry", headers=headers)
    assert missing.status_code == 404
