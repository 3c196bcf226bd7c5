"""The HTTP layer. Every router is included here, under /api/v1, with its gate (versions and
their deprecation: core/versioning.py, docs/versioning.md)."""

from fastapi import Depends, FastAPI

from core.platform.ratelimit import DEFAULT_RATE_LIMIT
from core.versioning import ApiVersion
from routers import (
    account,
    account_pages,
    admin,
    api_keys,
    auth,
    events,
    jobs,
    messages,
    root,
    sso,
    threads,
    users,
)
from routers.gates import API_VERSION, gates


def include_routes(app: FastAPI) -> None:
    """Attach every router with the gate it needs; nothing is public unless it says so."""
    api = ApiVersion(API_VERSION, dependencies=[Depends(DEFAULT_RATE_LIMIT)])
    api.include_router(auth.router, dependencies=gates.PUBLIC)
    api.include_router(auth.session_router, dependencies=gates.AUTHENTICATED)
    api.include_router(account.router, dependencies=gates.PUBLIC)
    api.include_router(account.me_router, dependencies=gates.AUTHENTICATED)
    api.include_router(sso.router, dependencies=gates.PUBLIC)
    api.include_router(users.me_router, dependencies=gates.AUTHENTICATED)
    api.include_router(sso.identities_router, dependencies=gates.AUTHENTICATED)
    api.include_router(api_keys.me_router, dependencies=gates.AUTHENTICATED)
    api.include_router(api_keys.admin_router, dependencies=gates.ADMIN)
    api.include_router(users.admin_router, dependencies=gates.ADMIN)
    api.include_router(admin.router, dependencies=gates.ADMIN)
    api.include_router(jobs.router, dependencies=gates.ADMIN)
    api.include_router(root.router, dependencies=gates.ROOT)
    api.include_router(threads.router, dependencies=gates.AUTHENTICATED)
    api.include_router(messages.thread_messages, dependencies=gates.AUTHENTICATED)
    api.include_router(messages.router, dependencies=gates.AUTHENTICATED)
    api.include_router(events.router, dependencies=gates.AUTHENTICATED)
    api.include_in(app)
    app.include_router(
        account_pages.pages, dependencies=[*gates.PUBLIC, Depends(DEFAULT_RATE_LIMIT)]
    )
    events.install_stream(app)  # the socket: its ticket is its gate; outermost, so last
