"""This API's gates: its OAuth2 password flow, and what each scope allows here."""

from core.deps import Gates
from core.security import Scope

API_PREFIX = "/api/v1"

gates = Gates(
    token_url=f"{API_PREFIX}/auth/login",
    scopes={
        Scope.REGULAR: "Use the API as a signed-in user.",
        Scope.ADMIN: "Manage users and read request logs.",
        Scope.SUPERUSER: "Change scopes and restore deleted users.",
    },
)
