"""A product's own rate limit: declared beside its code, overridable from the environment."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import ValidationError

from core.platform.ratelimit import Rate, RateLimiter, RateLimits, RateSetting
from tests.conftest import client_for
from tests.routers.test_ratelimit import client_at


class ProjectLimits(RateLimits):
    project_exports: RateSetting = Rate.parse("2/1h")  # RATE_LIMIT_PROJECT_EXPORTS


EXPORTS = RateLimiter(rate=ProjectLimits.rate(lambda limits: limits.project_exports))


def add_export_route(app: FastAPI) -> None:
    router = APIRouter()

    @router.post("/projects/exports", status_code=202, dependencies=[Depends(EXPORTS)])
    async def export() -> dict[str, bool]:
        return {"queued": True}

    app.include_router(router, prefix="/test")


async def exports(client: httpx.AsyncClient, count: int) -> list[httpx.Response]:
    return [await client.post("/test/projects/exports") for _ in range(count)]


async def test_a_declared_limit_refuses_with_the_problem_shape(
    make_app: Callable[..., Any],
) -> None:
    async with make_app() as app, client_for(app) as client:
        add_export_route(app)
        answers = await exports(client, 3)
    assert [r.status_code for r in answers] == [202, 202, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    refused = answers[-1]
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert (body["status"], body["title"]) == (429, "Too many requests")
    assert "2 per 3600 seconds" in body["detail"]
    assert 1700 < int(refused.headers["Retry-After"]) <= 1800


async def test_the_environment_sets_the_limit_of_each_app_instance(
    make_app: Callable[..., Any],
) -> None:
    """Two apps alive at once, built with different environments, each with its own limit."""
    async with make_app() as default, make_app(RATE_LIMIT_PROJECT_EXPORTS="4/1h") as raised:
        add_export_route(default)
        add_export_route(raised)
        async with (
            client_at(raised, "203.0.113.1") as one,
            client_at(default, "203.0.113.2") as two,
        ):
            raised_answers = await exports(one, 5)
            default_answers = await exports(two, 3)
    assert [r.status_code for r in raised_answers] == [202] * 4 + [429]
    assert raised_answers[0].headers["X-RateLimit-Limit"] == "4"
    assert [r.status_code for r in default_answers] == [202, 202, 429]


@pytest.mark.parametrize(
    "env", [{"RATE_LIMIT_PROJECT_EXPORTS": "often"}, {"RATE_LIMIT_REGISTER_IP": "20 an hour"}]
)
async def test_a_limit_that_is_not_a_rate_refuses_to_start(
    make_app: Callable[..., Any], env: dict[str, str]
) -> None:
    with pytest.raises(ValidationError, match="a rate looks like 600/1m"):
        async with make_app(**env):
            pass


def test_declared_limits_read_their_own_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PROJECT_EXPORTS", "10/30s")
    assert ProjectLimits.load().project_exports == Rate(times=10, seconds=30)


def test_a_limit_read_from_a_variable_already_in_use_is_refused() -> None:
    import app.users.limits  # noqa: F401 - declares RATE_LIMIT_LOGIN_IP

    with pytest.raises(TypeError, match="RATE_LIMIT_LOGIN_IP already read by another class"):

        class Clashing(RateLimits):
            login_ip: RateSetting = Rate.parse("1/1m")

    with pytest.raises(TypeError, match="RATE_LIMIT_USER already read by another class"):

        class ClashingWithTheFramework(RateLimits):
            user: RateSetting = Rate.parse("1/1m")
