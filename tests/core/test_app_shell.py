"""Docs served offline under a strict CSP, and the health probes."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import Leg
from tests.ports import refused_port


async def test_docs_are_served_by_the_app_under_a_strict_csp(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text and "cdn" not in page.text.lower()
    for asset in (
        "/static/docs/swagger-ui-bundle.js",
        "/static/docs/swagger-ui.css",
        "/static/plinth/swagger-init.js",
    ):
        assert asset in page.text
        assert (await client.get(asset)).status_code == 200
    redoc = await client.get("/redoc")
    assert redoc.status_code == 200 and "/static/docs/redoc.standalone.js" in redoc.text
    assert (await client.get("/static/docs/redoc.standalone.js")).status_code == 200


async def test_openapi_lists_the_oauth2_scopes(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert set(flows["password"]["scopes"]) == {"regular", "admin", "superuser"}
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/login"


async def test_liveness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}


async def test_readiness_reports_each_dependency(client: httpx.AsyncClient, leg: Any) -> None:
    response = await client.get("/health/ready")
    if leg.is_services:  # no job worker runs in this test: degraded, still ready
        expected = {"database": "ok", "redis": "ok", "jobs": "degraded"}
        assert response.json() == {"status": "degraded", "checks": expected}
    else:  # jobs run in-process
        assert response.json() == {"status": "ok", "checks": {"database": "ok", "jobs": "ok"}}
    assert response.status_code == 200


async def test_readiness_is_ok_while_a_job_worker_beats(
    app: FastAPI, client: httpx.AsyncClient, leg: Any
) -> None:
    if not leg.is_services:
        pytest.skip("the embedded default runs jobs in-process")
    await app.state.jobs.store.beat("worker-1")
    body = (await client.get("/health/ready")).json()
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "jobs": "ok"}}
    await app.state.jobs.store.leave("worker-1")
    assert (await client.get("/health/ready")).json()["checks"]["jobs"] == "degraded"


def unreachable_database_url(leg: Leg, port: int) -> str:
    """A URL of the leg's own dialect that cannot be opened: a refused port, or a directory."""
    if leg.is_services:
        return f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none"
    directory = leg.data_dir / "a-directory-not-a-database"
    directory.mkdir(exist_ok=True)
    return f"sqlite+aiosqlite:///{directory}"


async def test_readiness_is_503_when_the_database_is_down(
    app: FastAPI, client: httpx.AsyncClient, leg: Leg
) -> None:
    from core.db import Database, create_engine

    healthy = app.state.database
    with refused_port() as port:
        app.state.database = Database(create_engine(unreachable_database_url(leg, port)))
        try:
            response = await client.get("/health/ready")
        finally:
            await app.state.database.dispose()
            app.state.database = healthy
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "unavailable"
    assert body["errors"][0]["loc"] == ["database"]
    assert body["status"] == 503


async def test_readiness_is_503_when_redis_is_down(client: httpx.AsyncClient, leg: Any) -> None:
    if not leg.is_services:
        pytest.skip("the embedded default has no Redis to lose")
    leg.redis.stop()
    try:
        response = await client.get("/health/ready")
    finally:
        leg.redis.restart()
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "unavailable"}
