"""A lost database connection answers 503 (not 500), and the next request gets a fresh one."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.helpers import bearer, create_user


async def test_connections_killed_by_the_server_give_503_then_recover(
    leg: Any, database: Any, app: FastAPI, client: httpx.AsyncClient
) -> None:
    if not leg.is_services:
        pytest.skip("SQLite has no server to drop connections")
    user = await create_user(database)
    headers = bearer(user)
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
    async with database.session() as session:
        await session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await session.commit()
    await database.engine.dispose()  # the harness's own pooled connections died too
    lost = await client.get("/api/v1/users/me", headers=headers)
    assert lost.status_code == 503, lost.text
    assert lost.headers["retry-after"] == "1"
    assert lost.json()["detail"] == "The database connection was lost; try again."
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
