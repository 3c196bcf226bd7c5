"""The core through HTTP: one error shape everywhere, provide(), gates, commits, docs."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, FastAPI

from configs import get_settings
from core.application import create_application
from core.crud import CrudRouter
from core.db import Database
from core.deps import Gates, provide
from core.errors import Unauthorized
from core.pagination import CursorPage, CursorPagination, CursorParams, cursor_params
from core.security import Principal
from tests.conftest import client_for
from tests.core.models import WidgetController, WidgetRead

USER_ID = uuid.uuid4()


async def token_authenticator(_: Database, token: str) -> Principal:
    scopes = {"user-token": {"regular"}, "admin-token": {"admin", "regular"}}.get(token)
    if scopes is None:
        raise Unauthorized("The token is invalid or expired.")
    return Principal(id=USER_ID, scopes=frozenset(scopes))


Widgets = Annotated[WidgetController, Depends(provide(WidgetController))]
router = CrudRouter(WidgetController, WidgetRead, prefix="/widgets")
FEED = CursorPagination()


@router.get("/feed", response_model=CursorPage[WidgetRead])
async def feed(widgets: Widgets, page: Annotated[CursorParams, Depends(cursor_params)]) -> Any:
    """A second way of paging the same rows: a strategy used on its own."""
    return await FEED.page(widgets.repository, widgets.query(), page)


@router.get("/boom/crash")
async def crash() -> None:
    raise RuntimeError("secret internals: SELECT password FROM users")


admin_router = APIRouter(prefix="/admin-only")


@admin_router.get("")
async def admin_only() -> dict[str, str]:
    return {"ok": "yes"}


gates = Gates(token_url="/token", scopes={"regular": "Use it.", "admin": "Run it."})


def include(app: FastAPI) -> None:
    app.include_router(router, prefix="/api", dependencies=gates.AUTHENTICATED)
    app.include_router(admin_router, prefix="/api", dependencies=gates.ADMIN)


@pytest.fixture
async def http(leg: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_application(
        get_settings(), authenticator=token_authenticator, include_routes=include
    )
    async with LifespanManager(app), client_for(app) as client:
        client.headers["Authorization"] = "Bearer user-token"
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors", "request_id"}
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_create_commits_before_the_response(http: httpx.AsyncClient) -> None:
    created = await http.post("/api/widgets", json={"name": "a", "size": 2})
    assert created.status_code == 201
    fetched = await http.get(f"/api/widgets/{created.json()['id']}")
    assert fetched.json()["name"] == "a"


async def test_unknown_body_field_is_422_not_mass_assigned(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/widgets", json={"name": "a", "owner_id": str(uuid.uuid4())})
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "owner_id"]


async def test_validation_errors_do_not_echo_input(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/widgets", json={"name": "", "size": "s3cr3t-value"})
    body = assert_problem(response, 422)
    assert "s3cr3t-value" not in response.text
    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "name"), ("body", "size")}


@pytest.mark.parametrize(
    ("content", "content_type", "loc"),
    [
        (b'{"name": "a",', "application/json", ["body", 13]),
        (b"name=a", "application/json", ["body", 0]),
        (b'{"name": "a"}', "text/plain", ["body"]),  # JSON, but not sent as JSON
        (b'{"name": "a"}', None, ["body"]),
    ],
)
async def test_a_body_that_is_not_json_is_400(
    http: httpx.AsyncClient, content: bytes, content_type: str | None, loc: list[Any]
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await http.post("/api/widgets", content=content, headers=headers)
    body = assert_problem(response, 400)
    assert body["detail"] == "The request body is not valid JSON."
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(loc, "json_invalid")]
    assert (await http.get("/api/widgets")).json()["total"] == 0


@pytest.mark.parametrize("payload", [[1, 2], "a", {"name": 1}, {}])
async def test_json_of_the_wrong_shape_stays_422(http: httpx.AsyncClient, payload: Any) -> None:
    assert_problem(await http.post("/api/widgets", json=payload), 422)


async def test_duplicate_is_409(http: httpx.AsyncClient) -> None:
    assert (await http.post("/api/widgets", json={"name": "dup"})).status_code == 201
    assert_problem(await http.post("/api/widgets", json={"name": "dup"}), 409)


async def test_missing_row_is_404_and_bad_id_is_422(http: httpx.AsyncClient) -> None:
    assert_problem(await http.get(f"/api/widgets/{uuid.uuid4()}"), 404)
    assert_problem(await http.get("/api/widgets/not-a-uuid"), 422)


async def test_unknown_route_and_wrong_method_use_the_problem_shape(
    http: httpx.AsyncClient,
) -> None:
    assert_problem(await http.get("/no/such/route"), 404)
    assert_problem(await http.delete("/api/widgets"), 405)


async def test_crash_is_a_plain_500_without_internals(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/widgets/boom/crash")
    body = assert_problem(response, 500)
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert body["detail"].startswith("An unexpected error")


async def test_gates(http: httpx.AsyncClient) -> None:
    no_token = await http.get("/api/widgets", headers={"Authorization": ""})
    assert_problem(no_token, 401)
    assert no_token.headers["www-authenticate"] == "Bearer"
    assert_problem(await http.get("/api/widgets", headers={"Authorization": "Bearer nope"}), 401)
    assert_problem(await http.get("/api/admin-only"), 403)
    admin = await http.get("/api/admin-only", headers={"Authorization": "Bearer admin-token"})
    assert admin.json() == {"ok": "yes"}


async def test_token_in_query_string_is_ignored(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/widgets?access_token=user-token", headers={"Authorization": ""})
    assert_problem(response, 401)


async def test_offset_list_with_filters_and_sort(http: httpx.AsyncClient) -> None:
    for name, size in [("red", 1), ("blue", 3), ("dark red", 2)]:
        await http.post("/api/widgets", json={"name": name, "size": size})
    response = await http.get("/api/widgets", params={"name": "red", "sort": "-size", "limit": 1})
    assert response.json() == {
        "items": [response.json()["items"][0]],
        "total": 2,
        "limit": 1,
        "offset": 0,
    }
    assert response.json()["items"][0]["name"] == "dark red"


@pytest.mark.parametrize(
    "params",
    [{"sort": "owner_id"}, {"sort": "name;drop"}, {"limit": 101}, {"limit": 0}, {"offset": -1}],
)
async def test_bad_list_parameters_are_422(http: httpx.AsyncClient, params: dict[str, Any]) -> None:
    assert_problem(await http.get("/api/widgets", params=params), 422)


async def test_an_unknown_sort_field_is_answered_with_the_allowed_ones(
    http: httpx.AsyncClient,
) -> None:
    body = assert_problem(await http.get("/api/widgets", params={"sort": "-owner_id"}), 422)
    [error] = body["errors"]
    assert error["loc"] == ["query", "sort"]
    assert error["msg"].endswith("allowed: created_at, name, size")


async def test_cursor_feed_and_bad_cursor(http: httpx.AsyncClient) -> None:
    for i in range(3):
        await http.post("/api/widgets", json={"name": f"w{i}"})
    first = (await http.get("/api/widgets/feed", params={"limit": 2})).json()
    assert [w["name"] for w in first["items"]] == ["w2", "w1"] and first["has_more"]
    second = (await http.get("/api/widgets/feed", params={"cursor": first["next_cursor"]})).json()
    assert [w["name"] for w in second["items"]] == ["w0"]
    assert second == {"items": second["items"], "next_cursor": None, "has_more": False}
    assert_problem(await http.get("/api/widgets/feed", params={"cursor": "tampered"}), 400)


async def test_update_applies_sent_fields_only(http: httpx.AsyncClient) -> None:
    created = (await http.post("/api/widgets", json={"name": "a", "size": 7})).json()
    patched = await http.patch(f"/api/widgets/{created['id']}", json={"name": "b"})
    assert (patched.json()["name"], patched.json()["size"]) == ("b", 7)


async def test_request_id_is_kept_when_valid_and_replaced_when_not(http: httpx.AsyncClient) -> None:
    kept = await http.get("/api/widgets", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    replaced = await http.get("/api/widgets", headers={"X-Request-ID": "bad id <script>" * 20})
    assert "script" not in replaced.headers["x-request-id"]
    assert len(replaced.headers["x-request-id"]) == 32
