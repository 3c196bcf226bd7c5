"""Liveness and readiness probes."""

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.routing import APIRoute
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from core.db import Database
from core.http import problem
from core.openapi import operation_ids, problem_responses

logger = logging.getLogger("plinth.health")
router = APIRouter(
    prefix="/health", tags=["health"], generate_unique_id_function=operation_ids("health")
)
CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/live", summary="The process is up")
async def live() -> dict[str, str]:
    """Answers as long as the event loop runs; checks nothing else."""
    return {"status": "ok"}


async def _check_database(database: Database) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _check_redis(redis: Any) -> None:
    await redis.ping()


async def _run(name: str, check: Any) -> str | None:
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
        return f"{name} is unavailable ({type(exc).__name__})"
    return None


async def _jobs_state(jobs: Any) -> str:
    """ "ok" while a job worker's heartbeat is current, else "degraded" (requests still work)."""
    try:
        alive = await asyncio.wait_for(jobs.workers_alive(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("readiness check jobs failed: %s", type(exc).__name__)
        return "degraded"
    return "ok" if alive else "degraded"


@router.get(
    "/ready",
    summary="The database (and Redis, when configured) answer",
    responses=problem_responses(503),
)
async def ready(request: Request) -> Any:
    """200 when every configured dependency answers within 2 s, else 503 with each one's state.

    No live job worker makes the answer `"status": "degraded"` with `"jobs": "degraded"`, still
    200: the API serves requests; jobs wait in the queue until a worker is back.
    """
    checks = {"database": _check_database(request.app.state.database)}
    if request.app.state.redis is not None:
        checks["redis"] = _check_redis(request.app.state.redis)
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    failures = dict(zip(checks, results, strict=True))
    states = {name: ("unavailable" if failure else "ok") for name, failure in failures.items()}
    if any(failures.values()):
        errors = [
            {"loc": [name], "msg": failure, "type": "unavailable"}
            for name, failure in failures.items()
            if failure
        ]
        return problem(
            503,
            detail="A dependency is unavailable.",
            headers={"Retry-After": "5"},
            errors=errors,
            extensions={"checks": states},
        )
    jobs = getattr(request.app.state, "jobs", None)
    if jobs is not None:
        states["jobs"] = await _jobs_state(jobs)
    status = "degraded" if "degraded" in states.values() else "ok"
    return {"status": status, "checks": states}


class ProbeShortcut:
    """Right inside the request ids: `GET /health/live` and `GET /health/ready` go straight to
    their routes, past every other middleware and the route table. Orchestrators poll them every
    few seconds and they need no limit, log line or metric (they keep their `X-Request-ID`); a
    probe is the cheapest request the app serves. Other methods and paths take the normal way
    (405, 404)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = {
            route.path: (route, AsyncExitStackMiddleware(route.handle))
            for route in router.routes
            if isinstance(route, APIRoute) and route.methods == {"GET"}
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        probe = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if probe is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        route, handle = probe
        scope["route"] = route
        await handle(scope, receive, send)
