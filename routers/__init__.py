"""The HTTP layer. Every router is included here, under /api/v1, with its gate."""

from fastapi import APIRouter, FastAPI

API_PREFIX = "/api/v1"


def include_routes(app: FastAPI) -> None:
    """Attach every router with the gate it needs; nothing is public unless it says so."""
    api = APIRouter(prefix=API_PREFIX)
    app.include_router(api)
