"""/users: one's own account (authenticated) and user administration (admin, superuser)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Security, status

from app.users.controller import UserController, UserFilters
from app.users.schemas import (
    MeUpdate,
    MeUpdated,
    ScopesUpdate,
    UserAdminRead,
    UserAdminUpdate,
    UserRead,
)
from app.users.service import AuthService
from core.deps import PrincipalDep, provide, require_scopes
from core.filtering import sort_param
from core.pagination import OffsetPage, OffsetParams, offset_params
from core.platform.cache import cache, invalidates
from core.security import Scope

me_router = APIRouter(prefix="/users/me", tags=["users"], dependencies=[invalidates("users")])
"""Included with Gate.AUTHENTICATED."""
admin_router = APIRouter(
    prefix="/users", tags=["users: admin"], dependencies=[invalidates("users")]
)
"""Included with Gate.ADMIN; scope changes and restores also need `superuser`."""

Auth = Annotated[AuthService, Depends(provide(AuthService))]
Users = Annotated[UserController, Depends(provide(UserController))]
SUPERUSER_ONLY = [Security(require_scopes, scopes=[Scope.SUPERUSER])]


@me_router.get("", response_model=UserRead)
async def read_me(principal: PrincipalDep) -> Any:
    """The signed-in account."""
    assert principal is not None
    return principal.account


@me_router.patch("", response_model=MeUpdated)
async def update_me(data: MeUpdate, auth: Auth) -> Any:
    """Change `full_name`, and the password with `current_password`. A password change ends
    every session and token, this one included: use the `tokens` pair in the answer."""
    user, tokens = await auth.update_me(data)
    return MeUpdated.model_validate(user).model_copy(update={"tokens": tokens})


@me_router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(auth: Auth) -> None:
    """Delete the account (soft: a superuser can restore it); every token stops working."""
    await auth.delete_me()


@admin_router.get("", response_model=OffsetPage[UserAdminRead])
@cache(expire=60, namespace="users")
async def list_users(
    users: Users,
    filters: Annotated[UserFilters, Query()],
    page: Annotated[OffsetParams, Depends(offset_params)],
    sort: Annotated[str, Depends(sort_param(UserController.sort_fields, "-created_at"))],
) -> Any:
    """Users, a numbered page at a time, filtered and sorted."""
    return await users.list(filters=filters, sort=sort, limit=page.limit, offset=page.offset)


@admin_router.get("/{user_id}", response_model=UserAdminRead)
@cache(expire=60, namespace="users")
async def read_user(user_id: uuid.UUID, users: Users) -> Any:
    return await users.get(user_id)


@admin_router.patch("/{user_id}", response_model=UserAdminRead)
async def update_user(user_id: uuid.UUID, data: UserAdminUpdate, auth: Auth) -> Any:
    """Change `full_name` or `is_active`; deactivating ends the user's tokens at once."""
    return await auth.admin_update(user_id, data)


@admin_router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: uuid.UUID, auth: Auth) -> None:
    """Soft-delete a user and end their sessions."""
    await auth.admin_delete(user_id)


@admin_router.patch("/{user_id}/scopes", response_model=UserAdminRead, dependencies=SUPERUSER_ONLY)
async def set_scopes(user_id: uuid.UUID, data: ScopesUpdate, auth: Auth) -> Any:
    """Superuser: replace the user's scopes. Losing a scope ends their tokens at once."""
    return await auth.set_scopes(user_id, data)


@admin_router.post("/{user_id}/restore", response_model=UserAdminRead, dependencies=SUPERUSER_ONLY)
async def restore_user(user_id: uuid.UUID, auth: Auth) -> Any:
    """Superuser: bring back a soft-deleted user."""
    return await auth.restore(user_id)
