"""This API's gates: its OAuth2 password flow, and what each scope allows here."""

from fastapi import Depends

from core.deps import Gates, PrincipalDep
from core.errors import Forbidden
from core.security import Scope

API_VERSION = "v1"
API_PREFIX = f"/api/{API_VERSION}"

gates = Gates(
    token_url=f"{API_PREFIX}/auth/login",
    scopes={
        Scope.REGULAR: "Use the API as a signed-in user.",
        Scope.ADMIN: "Manage users and read request logs.",
        Scope.SUPERUSER: "Change scopes and restore deleted users.",
    },
    api_key_description=(
        "An API key (`plk_…`, from POST /api/v1/users/me/api-keys), sent as "
        "`Authorization: Bearer plk_…`. It acts with the key's scopes."
    ),
)


async def refuse_api_keys(principal: PrincipalDep) -> None:
    """Routes that manage credentials need a person's session, not an API key (a leaked key
    must not mint keys, link providers, change the password or end sessions)."""
    if principal is not None and principal.api_key_id is not None:
        raise Forbidden("API keys cannot do this; use a signed-in session.")


PEOPLE_ONLY = [Depends(refuse_api_keys)]
"""Add to a route (or router) that an API key must not call."""
