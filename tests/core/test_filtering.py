"""Declared filters through HTTP: each operator, enum lists as repeated keys, 422s, OpenAPI."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from configs import get_settings
from core.application import create_application
from core.crud import CrudRouter
from core.db import Database
from core.deps import Gates
from core.errors import Unauthorized
from core.filtering import MAX_FILTER_VALUES, Filter, FilterSet
from core.security import Principal
from tests.conftest import client_for
from tests.core.models import Project, ProjectController, ProjectRead, Status

ALICE, BOB = uuid.uuid4(), uuid.uuid4()
gates = Gates(token_url="/token", scopes={"regular": "Use it."})
projects = CrudRouter(ProjectController, ProjectRead, prefix="/projects", name="projects")


async def authenticator(_: Database, token: str) -> Principal:
    users = {"alice": ALICE, "bob": BOB}
    if token not in users:
        raise Unauthorized()
    return Principal(id=users[token], scopes=frozenset({"regular"}))


@pytest.fixture
async def app(leg: Any) -> AsyncIterator[FastAPI]:
    def include(app: FastAPI) -> None:
        app.include_router(projects, prefix="/api", dependencies=gates.AUTHENTICATED)

    app = create_application(get_settings(), authenticator=authenticator, include_routes=include)
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        client.headers["Authorization"] = "Bearer alice"
        yield client


ARCHIVED = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
async def rows(database: Any) -> None:
    """Alice's four projects, and one of Bob's that matches every filter but is never seen."""
    specs = [
        ("Alpha 100%", Status.PLANNED, 10, date(2030, 1, 1), None, ALICE),
        ("beta", Status.ACTIVE, 500, date(2030, 6, 1), None, ALICE),
        ("Gamma", Status.ON_HOLD, 2000, None, ARCHIVED, ALICE),
        ("alphabet", Status.ACTIVE, 1500, date(2031, 1, 1), ARCHIVED, ALICE),
        ("alpha of bob", Status.ACTIVE, 1500, date(2030, 6, 1), ARCHIVED, BOB),
    ]
    async with database.session() as session:
        session.add_all(
            Project(name=n, status=s, budget=b, due=d, archived_at=a, owner_id=o)
            for n, s, b, d, a, o in specs
        )
        await session.commit()


async def names(http: httpx.AsyncClient, params: Any) -> list[str]:
    response = await http.get("/api/projects", params=params)
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["items"])


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Alpha 100%", "Gamma", "alphabet", "beta"]),
        ([("status", "active"), ("status", "on_hold")], ["Gamma", "alphabet", "beta"]),
        ({"status": "planned"}, ["Alpha 100%"]),
        ([("not_status", "active"), ("not_status", "planned")], ["Gamma"]),
        ({"name": "ALPHA"}, ["Alpha 100%", "alphabet"]),
        ({"name": "0%"}, ["Alpha 100%"]),  # % is a character, not a wildcard
        ({"name": "a_p"}, []),  # so is _
        ({"name": ""}, ["Alpha 100%", "Gamma", "alphabet", "beta"]),
        ({"exact_name": "beta"}, ["beta"]),
        ({"other_name": "beta"}, ["Alpha 100%", "Gamma", "alphabet"]),
        ({"budget_over": 500, "budget_under": 2000}, ["alphabet"]),
        ({"due_from": "2030-06-01"}, ["alphabet", "beta"]),
        ({"due_to": "2030-06-01"}, ["Alpha 100%", "beta"]),
        ({"due_from": "2030-02-01", "due_to": "2030-12-31"}, ["beta"]),
        ({"archived": "true"}, ["Gamma", "alphabet"]),
        ({"archived": "false"}, ["Alpha 100%", "beta"]),
        ({"undated": "true"}, ["Gamma"]),
        ({"big": "true"}, ["Gamma", "alphabet"]),  # the hand-written `apply`
        ({"big": "true", "status": "active", "archived": "true"}, ["alphabet"]),
    ],
)
async def test_each_declared_filter_narrows_the_callers_rows(
    http: httpx.AsyncClient, params: Any, expected: list[str]
) -> None:
    assert await names(http, params) == expected


@pytest.mark.usefixtures("rows")
async def test_bad_values_and_too_long_lists_are_422_naming_the_parameter(
    http: httpx.AsyncClient,
) -> None:
    too_many = [("status", "active")] * (MAX_FILTER_VALUES + 1)
    bad: list[Any] = [
        ({"status": "ACTIVE"}, ["query", "status", 0]),  # values, not names
        ([("status", "active"), ("status", "done")], ["query", "status", 1]),
        (too_many, ["query", "status"]),
        ({"due_from": "next week"}, ["query", "due_from"]),
        ({"archived": "maybe"}, ["query", "archived"]),
        ({"name": "x" * 201}, ["query", "name"]),
        ({"name": "a\x00"}, ["query", "name"]),
        ({"budget_over": str(2**63)}, ["query", "budget_over"]),  # no BIGINT holds it
        ({"budget_under": str(-(2**63) - 1)}, ["query", "budget_under"]),
        ({"budget_over": str(2**31)}, ["query", "budget_over"]),  # nor its INTEGER column
    ]
    for params, location in bad:
        response = await http.get("/api/projects", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert location in [error["loc"] for error in response.json()["errors"]], response.text
    just_enough = [("status", "active")] * MAX_FILTER_VALUES
    assert await names(http, just_enough) == ["alphabet", "beta"]


def parameter(app: FastAPI, name: str) -> dict[str, Any]:
    operation = app.openapi()["paths"]["/api/projects"]["get"]
    return next(p for p in operation["parameters"] if p["name"] == name)


def resolved(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """The schema itself, or the component it refers to; `anyOf [x, null]` → x."""
    if "anyOf" in schema:
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
    if "$ref" in schema:
        return dict(app.openapi()["components"]["schemas"][schema["$ref"].split("/")[-1]])
    return schema


async def test_openapi_types_each_filter_and_lists_the_enum_values(app: FastAPI) -> None:
    status = parameter(app, "status")
    assert status["in"] == "query" and not status.get("required", False)
    array = resolved(app, status["schema"])
    assert array["type"] == "array" and array["maxItems"] == MAX_FILTER_VALUES
    assert resolved(app, array["items"])["enum"] == ["planned", "active", "on_hold"]
    assert "repeat" in status["description"]
    assert resolved(app, parameter(app, "due_from")["schema"])["format"] == "date"
    assert resolved(app, parameter(app, "archived")["schema"])["type"] == "boolean"
    assert resolved(app, parameter(app, "name")["schema"])["maxLength"] == 200


def test_an_operator_that_does_not_fit_the_field_type_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="takes a list"):

        class NotAList(FilterSet):
            status: Status | None = Filter(Project.status, "in")

    with pytest.raises(TypeError, match="takes a single value"):

        class AList(FilterSet):
            name: list[str] | None = Filter(Project.name, "==")

    with pytest.raises(TypeError, match="takes a bool"):

        class NotABool(FilterSet):
            archived: str | None = Filter(Project.archived_at, "is_null")

    with pytest.raises(ValueError, match="unknown filter operator"):
        Filter(Project.name, "like")  # type: ignore[arg-type]


async def test_an_integer_beyond_64_bits_in_a_body_is_a_422_naming_the_field(
    http: httpx.AsyncClient,
) -> None:
    """Beyond 64 bits no column holds it; `budget` is an INTEGER column: 32 bits."""
    for budget in (2**63, 2**31, -(2**31) - 1):
        too_big = await http.post("/api/projects", json={"name": "huge", "budget": budget})
        assert too_big.status_code == 422, too_big.text
        assert ["body", "budget"] in [error["loc"] for error in too_big.json()["errors"]]
    largest = await http.post("/api/projects", json={"name": "largest", "budget": 2**31 - 1})
    assert largest.status_code == 201, largest.text
    project = largest.json()["id"]
    edited = await http.patch(f"/api/projects/{project}", json={"budget": 2**31})
    assert edited.status_code == 422, edited.text
