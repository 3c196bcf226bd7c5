"""API keys: one's own (create, list, read, revoke) and, for admins, everyone's."""

from typing import Annotated, Any

from fastapi import Depends, status

from app.api_keys.controller import ApiKeyAdminController, ApiKeyController
from app.api_keys.schemas import ApiKeyAdminRead, ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from core.crud import CrudRouter
from core.deps import provide
from core.openapi import problem_responses
from routers.gates import PEOPLE_ONLY

me_router = CrudRouter(
    ApiKeyController,
    ApiKeyRead,
    prefix="/users/me/api-keys",
    tags=["api keys"],
    exclude=["create", "update", "restore"],
    dependencies=PEOPLE_ONLY,
)
"""Included with the authenticated gate; refused to callers using an API key: your keys,
newest first (`?active=true` for usable ones), one key, revoke (effective on the next
request, on every worker)."""

admin_router = CrudRouter(
    ApiKeyAdminController,
    ApiKeyAdminRead,
    prefix="/admin/api-keys",
    tags=["admin"],
    name="admin_api_keys",
    exclude=["create", "update", "restore"],
    route_dependencies={"delete": PEOPLE_ONLY},
)
"""Included with the admin gate: every user's keys (`?user_id=`, `?active=`), revoke any but a
superuser's (superusers only); revoking needs a person's session, not a key."""

Keys = Annotated[ApiKeyController, Depends(provide(ApiKeyController))]


@me_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=problem_responses(403, 409),
)
async def create(data: ApiKeyCreate, keys: Keys) -> Any:
    """Create a key with some of your scopes and an optional expiry. The answer's `key` is
    shown this once: only its hash is stored. Send it as `Authorization: Bearer plk_…`. 409
    when you hold AUTH_MAX_API_KEYS_PER_USER usable keys already."""
    return await keys.issue(data)
