"""CrudRouter and the request's unit of work, through HTTP on a toy parent/child pair."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from configs import get_settings
from core.application import create_application
from core.crud import CrudRouter
from core.db import Database, ReadOnlySession
from core.deps import Gates, SessionDep
from core.errors import Unauthorized
from core.routing import read_only
from core.security import Principal
from tests.conftest import client_for
from tests.core.models import (
    GadgetController,
    GadgetRead,
    OwnedWidgetController,
    Widget,
    WidgetRead,
)

ALICE, BOB = uuid.uuid4(), uuid.uuid4()
gates = Gates(token_url="/token", scopes={"regular": "Use it."})


async def authenticator(_: Database, token: str) -> Principal:
    users = {"alice": ALICE, "bob": BOB}
    if token not in users:
        raise Unauthorized()
    return Principal(id=users[token], scopes=frozenset({"regular"}))


widgets = CrudRouter(
    OwnedWidgetController, WidgetRead, prefix="/widgets", tags=["widgets"], name="widgets"
)
gadgets = CrudRouter(
    GadgetController, GadgetRead, prefix="/widgets/{widget_id}/gadgets", name="widget_gadgets"
)
gadget_items = CrudRouter(
    GadgetController, GadgetRead, prefix="/gadgets", exclude=["list", "create"]
)


@widgets.get("/count")
async def count_widgets() -> dict[str, str]:
    """A custom static path added after the generated `/{widget_id}` routes still wins."""
    return {"route": "custom"}


@widgets.get("/audit/sneaky")
@read_only
async def write_in_a_read(session: SessionDep) -> None:
    """Marked read-only, yet writes: refused."""
    session.add(Widget(name="sneaked"))


@widgets.get("/{widget_id}", response_model=WidgetRead)
async def read_widget_loudly(widget_id: uuid.UUID) -> Any:
    """Replaces the generated read: same method and path."""
    return {
        "id": widget_id,
        "name": "overridden",
        "size": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def include(app: FastAPI) -> None:
    for router in (widgets, gadgets, gadget_items):
        app.include_router(router, prefix="/api", dependencies=gates.AUTHENTICATED)


@pytest.fixture
async def app(leg: Any) -> AsyncIterator[FastAPI]:
    app = create_application(get_settings(), authenticator=authenticator, include_routes=include)
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        client.headers["Authorization"] = "Bearer alice"
        yield client


async def widget(http: httpx.AsyncClient, name: str = "w") -> dict[str, Any]:
    response = await http.post("/api/widgets", json={"name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


def operations(app: FastAPI) -> dict[str, str]:
    paths = app.openapi()["paths"]
    return {
        op["operationId"]: f"{method.upper()} {path}"
        for path, item in paths.items()
        for method, op in item.items()
    }


async def test_generated_routes_with_their_status_codes(http: httpx.AsyncClient) -> None:
    created = await widget(http, "a")
    listed = (await http.get("/api/widgets", params={"sort": "-name"})).json()
    assert [w["id"] for w in listed["items"]] == [created["id"]] and listed["total"] == 1
    patched = await http.patch(f"/api/widgets/{created['id']}", json={"size": 3})
    assert patched.status_code == 200 and patched.json()["size"] == 3
    assert (await http.delete(f"/api/widgets/{created['id']}")).status_code == 204
    assert (await http.get("/api/widgets")).json()["total"] == 0
    restored = await http.post(f"/api/widgets/{created['id']}/restore")
    assert restored.status_code == 200 and restored.json()["size"] == 3
    assert (await http.get("/api/widgets")).json()["total"] == 1


async def test_owner_scoping_answers_404_to_others(http: httpx.AsyncClient) -> None:
    mine = await widget(http)
    as_bob = {"Authorization": "Bearer bob"}
    assert (await http.get("/api/widgets", headers=as_bob)).json()["total"] == 0
    patched = await http.patch(f"/api/widgets/{mine['id']}", json={"size": 1}, headers=as_bob)
    assert patched.status_code == 404
    assert (await http.delete(f"/api/widgets/{mine['id']}", headers=as_bob)).status_code == 404


async def test_custom_routes_replace_and_precede_generated_ones(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    created = await widget(http)
    assert (await http.get(f"/api/widgets/{created['id']}")).json()["name"] == "overridden"
    assert (await http.get("/api/widgets/count")).json() == {"route": "custom"}
    reads = [p for p in operations(app).values() if p == "GET /api/widgets/{widget_id}"]
    assert reads == ["GET /api/widgets/{widget_id}"]  # the generated read is gone, not shadowed


async def test_operation_ids_and_excluded_routes(app: FastAPI) -> None:
    ops = operations(app)
    assert ops["widgets_create"] == "POST /api/widgets"
    assert ops["widgets_restore"] == "POST /api/widgets/{widget_id}/restore"
    assert ops["widget_gadgets_list"] == "GET /api/widgets/{widget_id}/gadgets"
    assert ops["widget_gadgets_create"] == "POST /api/widgets/{widget_id}/gadgets"
    assert ops["widget_gadgets_get"] == "GET /api/widgets/{widget_id}/gadgets/{gadget_id}"
    assert (
        "test_gadgets_list" not in ops
        and "test_gadgets_create" not in ops
        and ops["test_gadgets_update"] == "PATCH /api/gadgets/{gadget_id}"
    )


def test_unknown_excluded_route_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown routes"):
        CrudRouter(OwnedWidgetController, WidgetRead, prefix="/x", exclude=["destroy"])


async def test_children_live_inside_a_visible_parent(http: httpx.AsyncClient) -> None:
    parent = await widget(http)
    url = f"/api/widgets/{parent['id']}/gadgets"
    created = await http.post(url, json={"label": "g1"})
    assert created.status_code == 201, created.text
    assert created.json()["author_id"] == str(ALICE)
    assert created.json()["widget_id"] == parent["id"]
    assert (await http.get("/api/widgets")).json()["items"][0]["size"] == 1  # parent updated
    page = (await http.get(url)).json()
    assert [g["label"] for g in page["items"]] == ["g1"] and page["has_more"] is False
    forged = await http.post(url, json={"label": "x", "widget_id": str(uuid.uuid4())})
    assert forged.status_code == 422
    gadget_id = created.json()["id"]
    renamed = await http.patch(f"/api/gadgets/{gadget_id}", json={"label": "g2"})
    assert renamed.json()["label"] == "g2"


async def test_children_of_an_invisible_parent_are_404(http: httpx.AsyncClient) -> None:
    parent = await widget(http)
    url = f"/api/widgets/{parent['id']}/gadgets"
    gadget_id = (await http.post(url, json={"label": "g"})).json()["id"]
    as_bob = {"Authorization": "Bearer bob"}
    assert (await http.get(url, headers=as_bob)).status_code == 404
    assert (await http.post(url, json={"label": "x"}, headers=as_bob)).status_code == 404
    missing = f"/api/widgets/{uuid.uuid4()}/gadgets"
    assert (await http.get(missing)).status_code == 404
    edit = await http.patch(f"/api/gadgets/{gadget_id}", json={"label": "x"}, headers=as_bob)
    assert edit.status_code == 404


# -- the unit of work ------------------------------------------------------------------------


async def test_the_commit_happens_before_the_response_starts(app: FastAPI) -> None:
    """Ordered against the ASGI `send`, not against the client's view: a client that waits for
    the whole call cannot tell a commit before the response from one after it."""
    events: list[str] = []
    engine = app.state.database.engine.sync_engine

    def committed(_: Any) -> None:
        events.append("commit")

    async def send(message: Any) -> None:
        events.append(message["type"])

    async def receive() -> Any:
        return {"type": "http.request", "body": b'{"name": "ordered"}', "more_body": False}

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": "/api/widgets",
        "raw_path": b"/api/widgets",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer alice"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
        "scheme": "http",
        "root_path": "",
        "state": {},
    }
    event.listen(engine, "commit", committed)
    try:
        await app(scope, receive, send)
    finally:
        event.remove(engine, "commit", committed)
    assert "commit" in events and "http.response.start" in events
    assert events.index("commit") < events.index("http.response.start")


async def test_a_failing_commit_answers_an_error_and_keeps_nothing(
    http: httpx.AsyncClient,
) -> None:
    def refuse(_: Session) -> None:
        raise IntegrityError("COMMIT", {}, Exception("deferred constraint"))

    event.listen(Session, "before_commit", refuse)
    try:
        response = await http.post("/api/widgets", json={"name": "never"})
    finally:
        event.remove(Session, "before_commit", refuse)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert (await http.get("/api/widgets")).json()["total"] == 0


async def test_generated_reads_run_in_a_read_only_unit(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    """`list` and `get` get a read-only session (no transaction on PostgreSQL); writes do not."""
    read_only_units: list[Any] = []

    def record(session: Any, *_: Any) -> None:
        read_only_units.append(session)

    event.listen(ReadOnlySession, "after_begin", record)
    try:
        parent = await widget(http)
        assert read_only_units == []
        gadgets = await http.get(f"/api/widgets/{parent['id']}/gadgets")
        assert gadgets.status_code == 200 and len(read_only_units) == 1
        assert (await http.get("/api/widgets")).status_code == 200
        assert len(read_only_units) == 2
        made = await http.post(f"/api/widgets/{parent['id']}/gadgets", json={"label": "g"})
        assert made.status_code == 201 and len(read_only_units) == 2
        assert (await http.get(f"/api/gadgets/{made.json()['id']}")).status_code == 200
        assert len(read_only_units) == 3
    finally:
        event.remove(ReadOnlySession, "after_begin", record)


async def test_a_read_only_route_that_writes_fails_and_keeps_nothing(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    response = await http.get("/api/widgets/audit/sneaky")
    assert response.status_code == 500
    async with app.state.database.session() as session:
        assert (await session.scalars(select(Widget).where(Widget.name == "sneaked"))).all() == []
