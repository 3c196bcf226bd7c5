"""GET /api/v1/admin/request-logs: admins only, filters, newest first, cursor pages."""

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import insert

from core.db import new_id, utcnow
from core.platform.requestlog import RequestLog
from tests.helpers import bearer, create_user

URL = "/api/v1/admin/request-logs"
NOW = utcnow()
ALICE = uuid.uuid4()
BOB = uuid.uuid4()


def log_row(minutes_ago: int, **values: Any) -> dict[str, Any]:
    row = {
        "id": new_id(),
        "created_at": NOW - timedelta(minutes=minutes_ago),
        "method": "GET",
        "route": "/api/v1/users/me",
        "status": 200,
        "duration_ms": 3.5,
        "user_id": None,
        "client_ip": "10.0.0.1",
        "request_id": f"req-{minutes_ago}",
    }
    return {**row, **values}


SEED = [
    log_row(1, user_id=ALICE),
    log_row(2, user_id=ALICE, status=404, route="/api/v1/threads/{thread_id}"),
    log_row(3, user_id=BOB, status=500, method="POST", route="/api/v1/threads"),
    log_row(4, status=401),
    log_row(60, user_id=BOB, status=503),
]


async def seed(database: Any) -> None:
    async with database.session() as session:
        await session.execute(insert(RequestLog), SEED)
        await session.commit()


async def admin_headers(database: Any) -> dict[str, str]:
    return bearer(await create_user(database, "admin@example.com", scopes=["admin"]))


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["request_id"] for item in response.json()["items"]]


async def test_admin_lists_newest_first_with_every_field(
    client: httpx.AsyncClient, database: Any
) -> None:
    await seed(database)
    response = await client.get(URL, headers=await admin_headers(database))
    # The admin's own request is served after this query's snapshot; only the seeded rows.
    assert ids(response) == ["req-1", "req-2", "req-3", "req-4", "req-60"]
    first = response.json()["items"][0]
    assert first["route"] == "/api/v1/users/me"
    assert first["user_id"] == str(ALICE)
    assert first["client_ip"] == "10.0.0.1"
    assert set(first) == {
        "id",
        "created_at",
        "method",
        "route",
        "status",
        "duration_ms",
        "user_id",
        "api_key_id",
        "client_ip",
        "request_id",
    }


async def test_filters_by_user_status_route_method_and_time(
    client: httpx.AsyncClient, database: Any
) -> None:
    await seed(database)
    headers = await admin_headers(database)

    async def query(**params: Any) -> list[str]:
        return ids(await client.get(URL, params=params, headers=headers))

    assert await query(user_id=str(ALICE)) == ["req-1", "req-2"]
    assert await query(status=404) == ["req-2"]
    assert await query(min_status=500) == ["req-3", "req-60"]
    assert await query(route="/api/v1/threads/{thread_id}") == ["req-2"]
    assert await query(method="post") == ["req-3"]
    assert await query(request_id="req-4") == ["req-4"]
    since = (NOW - timedelta(minutes=3, seconds=30)).isoformat()
    until = (NOW - timedelta(minutes=1, seconds=30)).isoformat()
    assert await query(since=since, until=until) == ["req-2", "req-3"]
    assert await query(user_id=str(BOB), min_status=500, since=since) == ["req-3"]


async def test_cursor_pages_walk_every_row_once(client: httpx.AsyncClient, database: Any) -> None:
    await seed(database)
    headers = await admin_headers(database)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(URL, params=params, headers=headers)
        seen += ids(response)
        cursor = response.json()["next_cursor"]
        if not response.json()["has_more"]:
            break
    assert seen == ["req-1", "req-2", "req-3", "req-4", "req-60"]


async def test_bad_input_is_rejected(client: httpx.AsyncClient, database: Any) -> None:
    headers = await admin_headers(database)
    naive_time = await client.get(URL, params={"since": "2026-01-01T00:00:00"}, headers=headers)
    assert naive_time.status_code == 422
    assert (await client.get(URL, params={"status": 42}, headers=headers)).status_code == 422
    assert (await client.get(URL, params={"limit": 101}, headers=headers)).status_code == 422
    tampered = await client.get(URL, params={"cursor": "not-a-cursor"}, headers=headers)
    assert tampered.status_code == 400


async def test_only_admins_read_request_logs(client: httpx.AsyncClient, database: Any) -> None:
    await seed(database)
    regular = await create_user(database, "reg@example.com")
    assert (await client.get(URL)).status_code == 401
    response = await client.get(URL, headers=bearer(regular))
    assert response.status_code == 403
    assert "items" not in response.json()
