"""/users: one's own account (authenticated) and user administration (admin, superuser)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from app.users.controller import UserController
from app.users.limits import PASSWORD_CHECKS
from app.users.schemas import MeUpdate, MeUpdated, ScopesUpdate, UserAdminRead, UserRead
from app.users.service import AuthService
from core.crud import CrudRouter
from core.deps import PrincipalDep, provide
from core.openapi import operation_ids, problem_responses
from core.platform.cache import cache, invalidates
from routers.gates import PEOPLE_ONLY, gates

USERS_CACHE = cache(expire=60, namespace="users")
me_router = APIRouter(
    prefix="/users/me",
    tags=["users"],
    dependencies=[invalidates("users")],
    generate_unique_id_function=operation_ids("users"),
)
"""Included with the authenticated gate."""
admin_router = CrudRouter(
    UserController,
    UserAdminRead,
    prefix="/users",
    tags=["users: admin"],
    dependencies=[invalidates("users")],
    exclude=["create"],
    route_dependencies={"restore": gates.SUPERUSER},
    decorate={
        "list": cache(expire=60, namespace="users"),
        "get": cache(expire=60, namespace="users"),
    },
)
"""Included with the admin gate: users a numbered page at a time (filtered, sorted), one user,
change `full_name` or `is_active` (deactivating ends their tokens at once), soft-delete (ending
their sessions); restoring and scope changes also need `superuser`."""

Auth = Annotated[AuthService, Depends(provide(AuthService))]
Users = Annotated[UserController, Depends(provide(UserController))]


@me_router.get("", response_model=UserRead)
async def read_me(principal: PrincipalDep) -> Any:
    """The signed-in account."""
    assert principal is not None
    return principal.account


@me_router.patch(
    "", response_model=MeUpdated, dependencies=PEOPLE_ONLY, responses=problem_responses(429)
)
async def update_me(
    data: MeUpdate, request: Request, response: Response, principal: PrincipalDep, auth: Auth
) -> Any:
    """Change `full_name`, and the password with `current_password`. A password change ends
    every session and token, this one included: use the `tokens` pair in the answer. Wrong
    `current_password` answers are limited per account (RATE_LIMIT_PASSWORD_CHECK): 429."""
    assert principal is not None
    if data.password is None:
        user, tokens = await auth.update_me(data)
    else:
        async with PASSWORD_CHECKS.attempt(request, str(principal.id), response):
            user, tokens = await auth.update_me(data)
    return MeUpdated.model_validate(user).model_copy(update={"tokens": tokens})


@me_router.delete("", status_code=status.HTTP_204_NO_CONTENT, dependencies=PEOPLE_ONLY)
async def delete_me(auth: Auth) -> None:
    """Delete the account (soft: a superuser can restore it); every token stops working."""
    await auth.delete_me()


@admin_router.patch(
    "/{user_id}/scopes",
    response_model=UserAdminRead,
    dependencies=[*gates.SUPERUSER, *PEOPLE_ONLY],
)
async def set_scopes(user_id: uuid.UUID, data: ScopesUpdate, users: Users) -> Any:
    """Superuser, signed in (not with a key): replace the user's scopes. Losing a scope ends
    their tokens and API keys at once."""
    return await users.set_scopes(user_id, data)
