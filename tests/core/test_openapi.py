"""The OpenAPI document of an app built with the core: what each operation says it answers.

A user's own routes — a plain `APIRouter`, no `responses=` — get their statuses from what they
depend on, exactly like the generated CRUD routes.
"""

import uuid
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel

from configs import get_settings
from core.application import create_application
from core.crud import CrudRouter
from core.db import Database
from core.deps import Gates, SessionDep
from core.errors import Unauthorized
from core.openapi import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    answers,
    complete_document,
    operation_id,
    operation_ids,
    problem_responses,
)
from core.platform.ratelimit import RateLimiter
from core.security import Principal
from tests.core.models import WidgetController, WidgetRead

gates = Gates(token_url="/token", scopes={"regular": "Use it."})


async def authenticator(_: Database, token: str) -> Principal:
    raise Unauthorized()


class Note(BaseModel):
    text: str


reports = APIRouter(prefix="/reports", generate_unique_id_function=operation_ids("reports"))


@reports.post("/{report_id}/notes", dependencies=[Depends(RateLimiter(times=5, seconds=60))])
async def add_note(report_id: uuid.UUID, note: Note, session: SessionDep) -> Note:
    return note


@reports.get("")
async def search(q: Annotated[str, Query(max_length=20)] = "") -> list[str]:
    return []


@answers(402)
async def paid_plan() -> None:
    """A dependency of the user's own, declaring what it answers."""


@reports.get("/premium", dependencies=[Depends(paid_plan)], responses=problem_responses(409))
async def premium() -> dict[str, str]:
    return {}


widgets = CrudRouter(WidgetController, WidgetRead, prefix="/widgets", name="widgets")


def include(app: FastAPI) -> None:
    app.include_router(reports, prefix="/api", dependencies=gates.AUTHENTICATED)
    app.include_router(widgets, prefix="/api", dependencies=gates.AUTHENTICATED)


@pytest.fixture
def document(leg: Any) -> dict[str, Any]:
    app = create_application(get_settings(), authenticator=authenticator, include_routes=include)
    return app.openapi()


def responses(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method]
    return dict(operation["responses"])


def test_a_plain_route_documents_what_its_dependencies_and_inputs_answer(
    document: dict[str, Any],
) -> None:
    answered = responses(document, "post", "/api/reports/{report_id}/notes")
    # gate 401/403, rate limit 429, session 503/504, body 400/413/422, path 404, any 500
    assert sorted(answered) == [
        "200", "400", "401", "403", "404", "413", "422", "429", "500", "503", "504"
    ]  # fmt: skip
    # the gate checks the token against the database: 503/504 too
    searched = responses(document, "get", "/api/reports")
    assert sorted(searched) == ["200", "401", "403", "422", "500", "503", "504"]
    premium = responses(document, "get", "/api/reports/premium")
    assert {"402", "409"} <= set(premium) and "422" not in premium


def test_every_error_is_only_problem_json_with_the_one_schema(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["content"] == {
                        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }, (method, path, status)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["Problem"]["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/FieldError"
    }
    for example in schemas["Problem"]["examples"]:
        Problem.model_validate(example)


def test_headers_are_documented(document: dict[str, Any]) -> None:
    answered = responses(document, "post", "/api/reports/{report_id}/notes")
    assert answered["200"]["headers"]["X-Request-ID"]["required"] is True
    assert "X-RateLimit-Remaining" in answered["200"]["headers"]
    assert answered["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert answered["429"]["headers"]["Retry-After"]["required"] is True
    assert answered["503"]["headers"]["Retry-After"]["required"] is True
    assert "X-RateLimit-Remaining" not in responses(document, "get", "/api/reports")["200"].get(
        "headers", {}
    )


def test_operation_ids_are_readable_and_a_duplicate_is_refused(document: dict[str, Any]) -> None:
    ids = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    }
    assert {"reports_add_note", "reports_search", "widgets_create", "widgets_list"} <= ids

    twice = APIRouter()
    for path in ("/a", "/b"):
        twice.add_api_route(path, search, name="same")
    app = FastAPI(generate_unique_id_function=operation_id)
    app.include_router(twice)
    with (
        pytest.warns(UserWarning, match="Duplicate Operation ID"),
        pytest.raises(ValueError, match="'same' names both"),
    ):
        complete_document(FastAPI.openapi(app), app.routes)
