"""Request limits: body size (413), time to response (504), pool exhaustion (503) and the
PostgreSQL statement timeout (504) — each answered with the standard problem body."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from sqlalchemy import text

from core.deps import SessionDep
from tests.conftest import client_for
from tests.helpers import bearer, create_user

API = "/api/v1"


def add_test_routes(app: FastAPI) -> None:
    """Routes only these tests need: echo a body, sleep, run a slow query."""

    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    async def slow() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"status": "late"}

    async def slow_query(session: SessionDep) -> dict[str, str]:
        await session.execute(text("SELECT pg_sleep(2)"))
        return {"status": "late"}

    app.add_api_route(f"{API}/test/echo", echo, methods=["POST"])
    app.add_api_route(f"{API}/test/slow", slow, methods=["GET"])
    app.add_api_route(f"{API}/test/slow-query", slow_query, methods=["GET"])


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_body_over_the_limit_by_content_length_is_413(make_app: Any) -> None:
    async with make_app(REQUEST_MAX_BODY_BYTES="100") as app, client_for(app) as client:
        add_test_routes(app)
        assert (await client.post(f"{API}/test/echo", content=b"x" * 100)).json() == {
            "received": 100
        }
        response = await client.post(f"{API}/test/echo", content=b"x" * 101)
    body = assert_problem(response, 413)
    assert body["title"] == "Payload too large"


async def test_streamed_body_without_content_length_is_counted(make_app: Any) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 30

    async with make_app(REQUEST_MAX_BODY_BYTES="100") as app, client_for(app) as client:
        add_test_routes(app)
        response = await client.post(f"{API}/test/echo", content=chunks())
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


async def test_slow_request_is_cut_off_with_504(make_app: Any) -> None:
    async with make_app(REQUEST_TIMEOUT_SECONDS="0.2") as app, client_for(app) as client:
        add_test_routes(app)
        response = await client.get(f"{API}/test/slow", headers={"X-Request-ID": "slow-1"})
        body = assert_problem(response, 504)
        assert body["request_id"] == "slow-1"
        assert (await client.get("/health/live")).status_code == 200


async def test_exhausted_pool_answers_503_instead_of_hanging(make_app: Any, database: Any) -> None:
    user = await create_user(database)
    env = {
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "0",
        "DATABASE_POOL_TIMEOUT_SECONDS": "0.2",
    }
    async with make_app(**env) as app, client_for(app) as client:
        async with app.state.database.engine.connect() as held:
            await held.execute(text("SELECT 1"))
            response = await client.get(f"{API}/users/me", headers=bearer(user))
            body = assert_problem(response, 503)
            assert response.headers["retry-after"] == "1"
            assert "busy" in body["detail"]
        assert (await client.get(f"{API}/users/me", headers=bearer(user))).status_code == 200


@pytest.mark.postgres_only
async def test_statement_timeout_is_a_clean_504(make_app: Any, leg: Any) -> None:
    if not leg.is_services:
        pytest.skip("statement_timeout is a PostgreSQL setting")
    async with make_app(DATABASE_STATEMENT_TIMEOUT_MS="100") as app, client_for(app) as client:
        add_test_routes(app)
        response = await client.get(f"{API}/test/slow-query")
        body = assert_problem(response, 504)
        assert "database" in body["detail"].lower()
        assert (await client.get("/health/ready")).status_code == 200


async def test_other_database_errors_stay_500s(make_app: Any) -> None:
    async def broken_query(session: SessionDep) -> None:
        await session.execute(text("SELECT * FROM no_such_table"))

    async with make_app() as app, client_for(app) as client:
        app.add_api_route(f"{API}/test/broken-query", broken_query)
        response = await client.get(f"{API}/test/broken-query")
    body = assert_problem(response, 500)
    assert "no_such_table" not in response.text
    assert body["title"] == "Internal server error"
