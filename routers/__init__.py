"""The HTTP layer. Every router is included here, under /api/v1, with its gate."""

from fastapi import APIRouter, Depends, FastAPI

from core.deps import Gate
from core.platform.ratelimit import DEFAULT_RATE_LIMIT
from routers import admin, auth, messages, root, threads, users

API_PREFIX = "/api/v1"


def include_routes(app: FastAPI) -> None:
    """Attach every router with the gate it needs; nothing is public unless it says so."""
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(DEFAULT_RATE_LIMIT)])
    api.include_router(auth.router, dependencies=Gate.PUBLIC)
    api.include_router(auth.session_router, dependencies=Gate.AUTHENTICATED)
    api.include_router(users.me_router, dependencies=Gate.AUTHENTICATED)
    api.include_router(users.admin_router, dependencies=Gate.ADMIN)
    api.include_router(admin.router, dependencies=Gate.ADMIN)
    api.include_router(root.router, dependencies=Gate.ROOT)
    api.include_router(threads.router, dependencies=Gate.AUTHENTICATED)
    api.include_router(messages.router, dependencies=Gate.AUTHENTICATED)
    app.include_router(api)
