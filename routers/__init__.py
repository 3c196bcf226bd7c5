"""The HTTP layer. Every router is included here, under /api/v1, with its gate (versions and
their deprecation: core/versioning.py, docs/versioning.md)."""

import importlib
from typing import Protocol, cast

from fastapi import Depends, FastAPI

from app.domains import optional_domains
from core.platform.ratelimit import DEFAULT_RATE_LIMIT
from core.versioning import ApiVersion
from routers import (
    account,
    account_pages,
    admin,
    api_keys,
    auth,
    files,
    jobs,
    organizations,
    realtime,
    root,
    sso,
    two_factor,
    users,
)
from routers.gates import API_VERSION, gates


class DomainRoutes(Protocol):
    """routers/<name>.py of an optional domain (app/domains.py)."""

    def include_routes(self, api: ApiVersion) -> None: ...


def optional_routes() -> list[DomainRoutes]:
    """The routes modules of the optional domains the project has (the messenger example)."""
    return [cast(DomainRoutes, importlib.import_module(f"routers.{n}")) for n in optional_domains()]


def include_routes(app: FastAPI) -> None:
    """Attach every router with the gate it needs; nothing is public unless it says so."""
    api = ApiVersion(API_VERSION, dependencies=[Depends(DEFAULT_RATE_LIMIT)])
    api.include_router(auth.router, dependencies=gates.PUBLIC)
    api.include_router(auth.session_router, dependencies=gates.AUTHENTICATED)
    api.include_router(account.router, dependencies=gates.PUBLIC)
    api.include_router(account.me_router, dependencies=gates.AUTHENTICATED)
    api.include_router(sso.router, dependencies=gates.PUBLIC)
    api.include_router(two_factor.router, dependencies=gates.PUBLIC)
    api.include_router(users.me_router, dependencies=gates.AUTHENTICATED)
    api.include_router(two_factor.me_router, dependencies=gates.AUTHENTICATED)
    api.include_router(sso.identities_router, dependencies=gates.AUTHENTICATED)
    api.include_router(api_keys.me_router, dependencies=gates.AUTHENTICATED)
    api.include_router(files.blobs, dependencies=gates.PUBLIC)  # each carries a signed token
    api.include_router(files.router, dependencies=gates.AUTHENTICATED)
    api.include_router(api_keys.admin_router, dependencies=gates.ADMIN)
    for router in organizations.ROUTERS:
        api.include_router(router, dependencies=gates.AUTHENTICATED)
    api.include_router(users.admin_router, dependencies=gates.ADMIN)
    api.include_router(two_factor.admin_router, dependencies=gates.ADMIN)
    api.include_router(admin.router, dependencies=gates.ADMIN)
    api.include_router(jobs.router, dependencies=gates.ADMIN)
    api.include_router(root.router, dependencies=gates.ROOT)
    domains = optional_routes()
    for domain in domains:
        domain.include_routes(api)
    api.include_router(realtime.router, dependencies=gates.AUTHENTICATED)
    api.include_in(app)
    app.include_router(
        account_pages.pages, dependencies=[*gates.PUBLIC, Depends(DEFAULT_RATE_LIMIT)]
    )
    realtime.install_stream(app)  # last: the socket is the outermost layer (its ticket: its gate)
