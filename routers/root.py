"""/root: operations guarded by the static root token, usable with an empty user table."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from app.users.schemas import SuperuserCreate, UserRead
from app.users.service import AuthService
from core.deps import provide
from core.openapi import operation_ids
from core.platform.cache import invalidates

router = APIRouter(
    prefix="/root",
    tags=["root"],
    dependencies=[invalidates("users")],
    generate_unique_id_function=operation_ids("root"),
)
"""Included with Gate.ROOT (refused entirely while AUTH_ROOT_TOKEN is unset)."""


@router.post("/superusers", status_code=status.HTTP_201_CREATED, response_model=UserRead)
async def create_superuser(
    data: SuperuserCreate, auth: Annotated[AuthService, Depends(provide(AuthService))]
) -> Any:
    """Create a superuser (e.g. the first one)."""
    return await auth.create_superuser(data)
