"""Nested resources: a child's item routes sit under its parent and check it on every call."""

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI

from configs import get_settings
from core.application import create_application
from core.crud import CrudRouter
from core.db import Database
from core.deps import Gates
from core.errors import Unauthorized
from core.security import Principal
from tests.conftest import client_for
from tests.core.models import (
    GadgetController,
    GadgetRead,
    OwnedWidgetController,
    WidgetController,
    WidgetRead,
)

ALICE, BOB = uuid.uuid4(), uuid.uuid4()
gates = Gates(token_url="/token", scopes={"regular": "Use it."})
widgets = CrudRouter(OwnedWidgetController, WidgetRead, prefix="/widgets", name="widgets")
gadgets = CrudRouter(GadgetController, GadgetRead, prefix="/widgets/{widget_id}/gadgets")


async def authenticator(_: Database, token: str) -> Principal:
    users = {"alice": ALICE, "bob": BOB}
    if token not in users:
        raise Unauthorized()
    return Principal(id=users[token], scopes=frozenset({"regular"}))


def build(include: Callable[[FastAPI], None]) -> FastAPI:
    return create_application(get_settings(), authenticator=authenticator, include_routes=include)


def include(app: FastAPI) -> None:
    for router in (widgets, gadgets):
        app.include_router(router, prefix="/api", dependencies=gates.AUTHENTICATED)


@pytest.fixture
async def http(leg: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = build(include)
    async with LifespanManager(app), client_for(app) as client:
        client.headers["Authorization"] = "Bearer alice"
        yield client


async def made(http: httpx.AsyncClient, url: str, body: dict[str, Any], who: str) -> str:
    response = await http.post(url, json=body, headers={"Authorization": f"Bearer {who}"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def family(http: httpx.AsyncClient) -> dict[str, str]:
    """Alice's widget with a gadget, another widget of hers without one, and Bob's widget."""
    parent = await made(http, "/api/widgets", {"name": "parent"}, "alice")
    return {
        "parent": parent,
        "gadget": await made(http, f"/api/widgets/{parent}/gadgets", {"label": "g"}, "alice"),
        "other": await made(http, "/api/widgets", {"name": "other"}, "alice"),
        "bobs": await made(http, "/api/widgets", {"name": "bobs"}, "bob"),
    }


def wrong_parents(family: dict[str, str]) -> dict[str, str]:
    """Parents the gadget cannot be reached through: another of the caller's widgets, a widget
    the caller cannot see, and no widget at all."""
    return {"foreign": family["other"], "invisible": family["bobs"], "missing": str(uuid.uuid4())}


async def gadget_as_stored(http: httpx.AsyncClient, family: dict[str, str]) -> dict[str, Any]:
    response = await http.get(f"/api/widgets/{family['parent']}/gadgets/{family['gadget']}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_item_routes_through_the_right_parent(
    http: httpx.AsyncClient, family: dict[str, str]
) -> None:
    url = f"/api/widgets/{family['parent']}/gadgets/{family['gadget']}"
    assert (await http.get(url)).json()["label"] == "g"
    renamed = await http.patch(url, json={"label": "g2"})
    assert renamed.status_code == 200 and renamed.json()["label"] == "g2"
    assert (await http.delete(url)).status_code == 204
    assert (await http.get(url)).status_code == 404
    restored = await http.post(f"{url}/restore")
    assert restored.status_code == 200 and restored.json()["label"] == "g2"


@pytest.mark.parametrize("through", ["foreign", "invisible", "missing"])
async def test_a_wrong_parent_is_404_and_changes_nothing(
    http: httpx.AsyncClient, family: dict[str, str], through: str
) -> None:
    before = await gadget_as_stored(http, family)
    url = f"/api/widgets/{wrong_parents(family)[through]}/gadgets/{family['gadget']}"
    assert (await http.get(url)).status_code == 404
    assert (await http.patch(url, json={"label": "stolen"})).status_code == 404
    assert (await http.delete(url)).status_code == 404
    assert await gadget_as_stored(http, family) == before


@pytest.mark.parametrize("through", ["foreign", "invisible", "missing"])
async def test_a_deleted_child_is_not_restored_through_a_wrong_parent(
    http: httpx.AsyncClient, family: dict[str, str], through: str
) -> None:
    right = f"/api/widgets/{family['parent']}/gadgets/{family['gadget']}"
    assert (await http.delete(right)).status_code == 204
    wrong = f"/api/widgets/{wrong_parents(family)[through]}/gadgets/{family['gadget']}"
    assert (await http.post(f"{wrong}/restore")).status_code == 404
    assert (await http.get(right)).status_code == 404  # still deleted
    assert (await http.post(f"{right}/restore")).status_code == 200


async def test_a_parent_id_that_is_not_one_is_422(
    http: httpx.AsyncClient, family: dict[str, str]
) -> None:
    response = await http.get(f"/api/widgets/not-a-uuid/gadgets/{family['gadget']}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "widget_id"]


async def test_summaries_name_one_item_in_the_singular(leg: Any) -> None:
    paths = build(include).openapi()["paths"]
    summaries = {
        f"{method.upper()} {path}": op["summary"]
        for path, item in paths.items()
        for method, op in item.items()
        if path.startswith("/api/widgets")
    }
    assert summaries["GET /api/widgets"] == "List widgets"
    assert summaries["POST /api/widgets"] == "Create widget"
    assert summaries["GET /api/widgets/{widget_id}/gadgets/{gadget_id}"] == "Get gadget"
    assert summaries["POST /api/widgets/{widget_id}/gadgets/{gadget_id}/restore"] == (
        "Restore gadget"
    )


# -- path parameters nothing binds are refused at start-up --------------------------------------


def test_a_route_with_an_unbound_path_parameter_is_refused_at_start_up(leg: Any) -> None:
    router = APIRouter(prefix="/projects/{project_id}")

    @router.get("/tasks/{task_id}")
    async def read_task(task_id: uuid.UUID) -> None:
        """Ignores the project in its path."""

    with pytest.raises(RuntimeError, match=r"GET /projects/\{project_id\}/tasks/\{task_id\}.*"):
        build(lambda app: app.include_router(router))
    with pytest.raises(RuntimeError, match="project_id"):
        build(lambda app: app.include_router(router))


def test_a_crud_router_refuses_path_parameters_its_controller_cannot_bind() -> None:
    with pytest.raises(ValueError, match="declares no parent"):
        CrudRouter(WidgetController, WidgetRead, prefix="/projects/{project_id}/widgets")
    with pytest.raises(ValueError, match=r"\['project_id'\] are not bound"):
        CrudRouter(
            GadgetController,
            GadgetRead,
            prefix="/p/{project_id}/w/{widget_id}/gadgets",
            parent_param="widget_id",
        )
    with pytest.raises(ValueError, match="need its parent in the path"):
        CrudRouter(GadgetController, GadgetRead, prefix="/gadgets")
