"""A lost database connection answers 503 (not 500), and the next request gets a fresh one."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.helpers import bearer, create_user


async def _kill_connections(database: Any) -> None:
    async with database.session() as session:
        await session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await session.commit()
    await database.engine.dispose()  # the harness's own pooled connections died too


async def test_connections_killed_by_the_server_give_503_then_recover(
    leg: Any, database: Any, app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A statement of the request's unit of work on a dropped connection: 503, then a fresh
    connection for the next request."""
    if not leg.is_services:
        pytest.skip("SQLite has no server to drop connections")
    user = await create_user(database)
    login = {"username": user.email, "password": "not the password"}
    assert (await client.post("/api/v1/auth/login", data=login)).status_code == 401
    await _kill_connections(database)
    lost = await client.post("/api/v1/auth/login", data=login)
    assert lost.status_code == 503, lost.text
    assert lost.headers["retry-after"] == "1"
    assert lost.json()["detail"] == "The database connection was lost; try again."
    assert (await client.post("/api/v1/auth/login", data=login)).status_code == 401


async def test_the_account_lookup_survives_a_dropped_connection(
    leg: Any, database: Any, app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Authentication's lookup (`Database.fetch_one`) discards a dropped connection and reads
    again on a fresh one: the caller never sees the drop."""
    if not leg.is_services:
        pytest.skip("SQLite has no server to drop connections")
    headers = bearer(await create_user(database))
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
    await _kill_connections(database)
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
