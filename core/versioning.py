"""API versions side by side, and deprecation that clients can see.

    v1 = ApiVersion("v1", dependencies=[Depends(DEFAULT_RATE_LIMIT)])
    v1.include_router(threads.router, dependencies=gates.AUTHENTICATED)
    v1.include_in(app)
    install_versioning(app)  # once, after the routes (create_application does it)

A version is an `APIRouter` under `/api/<name>`. Versions share everything below the HTTP layer
(controllers, services, schemas), and may share routers too. In the OpenAPI document each
version's tags are its own (`v1 threads`, `v2 threads`), and `/api/<name>/openapi.json` serves
the version's operations alone.

Deprecate a whole version with `ApiVersion("v1", deprecation=Deprecation(...))`, or one route
with `dependencies=[deprecated(Deprecation(...))]`. Its responses then carry `Deprecation`
(RFC 9745), `Sunset` (RFC 8594) and `Link` (`rel="deprecation"`, `rel="successor-version"`),
and the document flags its operations `deprecated: true` with those headers listed. It is a
dependency of the deprecated routes only: the others run nothing extra. (A route that returns
its own `Response` object sends the headers only on errors; set them on that object.)
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRouter, iter_route_contexts
from starlette.responses import JSONResponse

from core.http import response_headers

VERSIONS_STATE = "api_versions"
INSTALLED_STATE = "api_versioning_installed"


@dataclass(frozen=True)
class Deprecation:
    """When an operation was (or will be) deprecated, when it may stop answering, and where
    to read about it or go instead. Times must be timezone-aware.

    Attributes:
        since: sent as `Deprecation: @<unix seconds>`; may be in the future (announced).
        sunset: sent as `Sunset: <HTTP-date>`; after it the operation may be removed.
        link: a page about the deprecation (`Link: <…>; rel="deprecation"`).
        successor: what replaces it, e.g. `/api/v2/threads` (`rel="successor-version"`).
    """

    since: datetime
    sunset: datetime | None = None
    link: str | None = None
    successor: str | None = None

    def __post_init__(self) -> None:
        for moment in (self.since, self.sunset):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("Deprecation times must be timezone-aware")
        if self.sunset is not None and self.sunset < self.since:
            raise ValueError("a sunset cannot come before the deprecation")

    def headers(self) -> dict[str, str]:
        """The response headers, exactly as sent."""
        headers = {"Deprecation": f"@{int(self.since.timestamp())}"}
        if self.sunset is not None:
            headers["Sunset"] = format_datetime(self.sunset.astimezone(UTC), usegmt=True)
        links = []
        if self.link:
            links.append(f'<{self.link}>; rel="deprecation"; type="text/html"')
        if self.successor:
            links.append(f'<{self.successor}>; rel="successor-version"')
        if links:
            headers["Link"] = ", ".join(links)
        return headers

    def openapi_headers(self) -> dict[str, Any]:
        """The same headers as OpenAPI response-header objects, with their values as examples."""
        sent = self.headers()
        described = {
            "Deprecation": "RFC 9745: deprecated since this time (`@` + Unix seconds).",
            "Sunset": "RFC 8594: after this HTTP-date the operation may stop answering.",
            "Link": "The deprecation notice (`rel=deprecation`) and the successor version.",
        }
        return {
            name: {"description": described[name], "schema": {"type": "string", "example": value}}
            for name, value in sent.items()
        }


class DeprecationHeaders:
    """The dependency that sends a `Deprecation`'s headers (on errors too)."""

    def __init__(self, deprecation: Deprecation) -> None:
        self.deprecation = deprecation
        self._headers = deprecation.headers()

    async def __call__(self, request: Request, response: Response) -> None:
        response.headers.update(self._headers)
        response_headers(request).update(self._headers)


def deprecated(deprecation: Deprecation) -> DependsParam:
    """`dependencies=[deprecated(Deprecation(...))]` on a route or router deprecates it."""
    dependency: DependsParam = Depends(DeprecationHeaders(deprecation))
    return dependency


class ApiVersion(APIRouter):
    """The routers of one API version, under `/api/<name>`.

    Args:
        name: `v1`, `v2`…: the path segment and the tag prefix.
        deprecation: deprecates every route of the version.
        dependencies: run on every route of the version (e.g. the default rate limit);
            other keywords are `APIRouter`'s.
    """

    def __init__(
        self,
        name: str,
        *,
        deprecation: Deprecation | None = None,
        dependencies: Sequence[DependsParam] | None = None,
        **router_options: Any,
    ) -> None:
        # The deprecation goes first, so even a refusal by a later gate carries its headers.
        first = [deprecated(deprecation)] if deprecation else []
        super().__init__(dependencies=[*first, *(dependencies or [])], **router_options)
        self.name = name
        self.deprecation = deprecation
        self.path = f"/api/{name}"

    def tag(self, tag: str) -> str:
        """A tag of this version in the OpenAPI document."""
        return f"{self.name} {tag}"

    def include_in(self, app: FastAPI) -> None:
        """Serve the version's routes (and its own document, when the app serves one). The
        app factory calls `install_versioning` once every version is included."""
        # The path goes on the inclusion, not on the router: included with no prefix, FastAPI
        # would analyse every route's dependencies once more only to check that no path is empty.
        app.include_router(self, prefix=self.path)
        if not hasattr(app.state, VERSIONS_STATE):
            setattr(app.state, VERSIONS_STATE, [])
        getattr(app.state, VERSIONS_STATE).append(self)
        if app.openapi_url:

            async def version_document() -> JSONResponse:
                return JSONResponse(version_openapi(app, self))

            app.add_api_route(
                f"{self.path}/openapi.json", version_document, include_in_schema=False
            )


def versions(app: FastAPI) -> list[ApiVersion]:
    """The versions mounted on `app`, in mounting order."""
    mounted: list[ApiVersion] = getattr(app.state, VERSIONS_STATE, [])
    return mounted


def version_openapi(app: FastAPI, version: ApiVersion) -> dict[str, Any]:
    """The OpenAPI document of one version: its paths, every component."""
    document = app.openapi()
    prefix = version.path + "/"
    paths = {path: item for path, item in document["paths"].items() if path.startswith(prefix)}
    info = {**document["info"], "title": f"{document['info']['title']} {version.name}"}
    return {**document, "info": info, "paths": paths}


def install_versioning(app: FastAPI) -> None:
    """Make `app.openapi()` tag each version's operations and flag deprecated ones with their
    headers. Call it last among the document's post-processors (it documents the headers on
    every response listed by then); `create_application` does."""
    if getattr(app.state, INSTALLED_STATE, False):
        return
    setattr(app.state, INSTALLED_STATE, True)
    build = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = build()
        if not done or done[0] is not document:  # FastAPI caches it; once per document
            _tag_versions(document, versions(app))
            _document_deprecations(document, app)
            done[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(item: dict[str, Any]) -> list[dict[str, Any]]:
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    return [item[method] for method in methods if method in item]


def _tag_versions(document: dict[str, Any], mounted: list[ApiVersion]) -> None:
    for version in mounted:
        prefix = version.path + "/"
        for path, item in document.get("paths", {}).items():
            if path.startswith(prefix):
                for operation in _operations(item):
                    operation["tags"] = [version.tag(t) for t in operation.get("tags", [])]


def _route_deprecation(dependencies: Sequence[DependsParam]) -> Deprecation | None:
    found = None  # the last one wins, as its headers are set last
    for dependency in dependencies:
        if isinstance(dependency.dependency, DeprecationHeaders):
            found = dependency.dependency.deprecation
    return found


def _document_deprecations(document: dict[str, Any], app: FastAPI) -> None:
    paths = document.get("paths", {})
    for route in iter_route_contexts(app.routes):
        dependencies = getattr(route, "dependencies", None)
        item = paths.get(route.path_format or "")
        if not dependencies or item is None:
            continue
        deprecation = _route_deprecation(dependencies)
        if deprecation is None:
            continue
        headers = deprecation.openapi_headers()
        for method in route.methods or ():
            operation = item.get(method.lower())
            if operation is None:
                continue
            operation["deprecated"] = True
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {}).update(headers)
