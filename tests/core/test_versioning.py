"""API versions side by side: a toy v2 mounted beside the real v1, a deprecated route in it and
a wholly deprecated toy v0 — routing, the OpenAPI documents and the headers on the wire."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from app.authentication import authenticate
from configs import get_settings
from core.application import create_application
from core.deps import PrincipalDep
from core.errors import NotFound
from core.platform.ratelimit import DEFAULT_RATE_LIMIT
from core.versioning import ApiVersion, Deprecation, deprecated
from routers import include_routes
from routers.gates import gates
from tests.conftest import Leg, client_for
from tests.helpers import bearer, create_user

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
SUNSET = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
OLD_HELLO = Deprecation(since=SINCE, sunset=SUNSET, successor="/api/v2/hello")
V0 = Deprecation(since=SINCE, sunset=SUNSET, link="https://example.com/v0-sunset")


def toy_routers(version: str) -> list[APIRouter]:
    """A version's own toy routers. Operation ids must be unique in the one document, so a
    router under two versions needs ids of its own: here `<version>_<route name>`."""

    def operation_id(route: APIRoute) -> str:
        return f"{version}_{route.name}"

    hello = APIRouter(prefix="/hello", tags=["hello"], generate_unique_id_function=operation_id)

    @hello.get("")
    async def say_hello() -> dict[str, str]:
        return {"version": version}

    @hello.get("/old", dependencies=[deprecated(OLD_HELLO)])
    async def say_hello_the_old_way() -> dict[str, str]:
        return {"version": version, "style": "old"}

    @hello.get("/missing", dependencies=[deprecated(OLD_HELLO)])
    async def missing_hello() -> dict[str, str]:
        raise NotFound("No such hello.")

    whoami = APIRouter(prefix="/whoami", tags=["whoami"], generate_unique_id_function=operation_id)

    @whoami.get("")
    async def who_am_i(principal: PrincipalDep) -> dict[str, str]:
        """The same gates and the same principal as v1: the versions share the core."""
        assert principal is not None
        return {"id": str(principal.id)}

    return [hello, whoami]


def include_versions(app: FastAPI) -> None:
    include_routes(app)  # the real v1
    for version in (
        ApiVersion("v2", dependencies=[Depends(DEFAULT_RATE_LIMIT)]),
        ApiVersion("v0", deprecation=V0),
    ):
        hello, whoami = toy_routers(version.name)
        version.include_router(hello, dependencies=gates.PUBLIC)
        version.include_router(whoami, dependencies=gates.AUTHENTICATED)
        version.include_in(app)


@pytest.fixture
async def versioned(leg: Leg) -> AsyncIterator[httpx.AsyncClient]:
    get_settings.cache_clear()
    app = create_application(
        get_settings(), authenticator=authenticate, include_routes=include_versions
    )
    async with LifespanManager(app, startup_timeout=30), client_for(app) as http:
        yield http


def test_headers_follow_rfc_9745_and_8594() -> None:
    assert OLD_HELLO.headers() == {
        "Deprecation": "@1767225600",
        "Sunset": "Thu, 31 Dec 2026 23:59:59 GMT",
        "Link": '</api/v2/hello>; rel="successor-version"',
    }
    assert V0.headers()["Link"] == (
        '<https://example.com/v0-sunset>; rel="deprecation"; type="text/html"'
    )
    assert Deprecation(since=SINCE).headers() == {"Deprecation": "@1767225600"}
    with pytest.raises(ValueError, match="timezone-aware"):
        Deprecation(since=datetime(2026, 1, 1))  # naive: the mistake under test
    with pytest.raises(ValueError, match="sunset"):
        Deprecation(since=SUNSET, sunset=SINCE)


async def test_v2_routes_beside_v1_sharing_the_core(
    versioned: httpx.AsyncClient, database: object
) -> None:
    assert (await versioned.get("/api/v2/hello")).json() == {"version": "v2"}
    assert (await versioned.get("/api/v0/hello")).json() == {"version": "v0"}
    assert (await versioned.get("/api/v2/users/me")).status_code == 404  # not part of v2
    assert (await versioned.get("/api/v1/hello")).status_code == 404
    assert (await versioned.get("/api/v1/users/me")).status_code == 401  # v1 as before
    user = await create_user(database, email="versions@example.com")
    for version in ("v1", "v2"):
        path = "/users/me" if version == "v1" else "/whoami"
        answer = await versioned.get(f"/api/{version}{path}", headers=bearer(user))
        assert answer.status_code == 200, answer.text
        assert answer.json()["id"] == str(user.id)
    assert (await versioned.get("/api/v2/whoami")).status_code == 401


async def test_routes_that_are_not_deprecated_send_no_deprecation_headers(
    versioned: httpx.AsyncClient,
) -> None:
    for path in ("/api/v2/hello", "/api/v1/users/me", "/api/v2/nothing-here"):
        answer = await versioned.get(path)
        assert not {"deprecation", "sunset", "link"} & set(answer.headers), path


async def test_a_deprecated_route_sends_its_headers_on_success_and_on_errors(
    versioned: httpx.AsyncClient,
) -> None:
    expected = OLD_HELLO.headers()
    for path, status in (("/api/v2/hello/old", 200), ("/api/v2/hello/missing", 404)):
        answer = await versioned.get(path)
        assert answer.status_code == status
        assert {name: answer.headers[name] for name in expected} == expected, path
    assert (await versioned.get("/api/v2/hello/missing")).headers["content-type"] == (
        "application/problem+json"
    )


async def test_a_deprecated_version_marks_every_route_even_a_gate_refusal(
    versioned: httpx.AsyncClient,
) -> None:
    expected = V0.headers()
    for path, status in (("/api/v0/hello", 200), ("/api/v0/whoami", 401)):
        answer = await versioned.get(path)
        assert answer.status_code == status
        assert {name: answer.headers[name] for name in expected} == expected, path


async def test_the_document_tags_versions_and_flags_deprecations(
    versioned: httpx.AsyncClient,
) -> None:
    document = (await versioned.get("/openapi.json")).json()
    paths = document["paths"]
    assert paths["/api/v1/users/me"]["get"]["tags"] == ["v1 users"]
    assert paths["/api/v2/hello"]["get"]["tags"] == ["v2 hello"]
    assert paths["/api/v0/whoami"]["get"]["tags"] == ["v0 whoami"]
    assert paths["/api/v2/hello"]["get"]["operationId"] == "v2_say_hello"
    assert paths["/api/v0/hello"]["get"]["operationId"] == "v0_say_hello"
    for path in ("/api/v2/hello", "/api/v2/whoami", "/api/v1/users/me"):
        operation = paths[path]["get"]
        assert "deprecated" not in operation, path
        documented = [r.get("headers", {}) for r in operation["responses"].values()]
        assert not any("Deprecation" in headers for headers in documented), path
    for path, deprecation in (
        ("/api/v2/hello/old", OLD_HELLO),
        ("/api/v0/hello", V0),
        ("/api/v0/whoami", V0),
    ):
        operation = paths[path]["get"]
        assert operation["deprecated"] is True, path
        for response in operation["responses"].values():
            documented = response["headers"]
            assert set(deprecation.headers()) <= set(documented), path
            assert documented["Deprecation"]["schema"]["example"] == "@1767225600"


async def test_each_version_serves_its_own_document(versioned: httpx.AsyncClient) -> None:
    v2 = (await versioned.get("/api/v2/openapi.json")).json()
    assert set(v2["paths"]) == {
        "/api/v2/hello",
        "/api/v2/hello/old",
        "/api/v2/hello/missing",
        "/api/v2/whoami",
    }
    assert v2["info"]["title"].endswith(" v2")
    assert "securitySchemes" in v2["components"]
    v1 = (await versioned.get("/api/v1/openapi.json")).json()
    assert "/api/v1/users/me" in v1["paths"]
    assert all(path.startswith("/api/v1/") for path in v1["paths"])
