"""FastAPI dependencies: the request's session, the principal, the gates and `provide()`.

Gates are attached when a router is included, so no route is public by accident:

    gates = Gates(token_url="/api/v1/auth/login", scopes={"regular": "Use the API", ...})
    api.include_router(users_router, dependencies=gates.ADMIN)

Controllers and services reach handlers through one dependency:

    Users = Annotated[UserController, Depends(provide(UserController))]
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Security
from fastapi.params import Depends as DependsParam
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    SecurityScopes,
)
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import request_state
from core.db import Database
from core.errors import AppError, Forbidden, Unauthorized
from core.openapi import answers
from core.replicarouting import routed_unit_of_work
from core.routing import is_read_only
from core.security import Principal, Scope, constant_time_equals
from core.service import SessionBound, unit_of_work

Authenticator = Callable[[Database, str], Awaitable[Principal]]
"""Turns a bearer credential into a `Principal` (the app sets `app.state.authenticator`).

It runs outside the request's unit of work (`Database.autocommit()` for its lookup), so a route
that needs no database — `GET /users/me` — opens no transaction at all."""

root_scheme = HTTPBearer(
    scheme_name="RootToken", description="The static root token from settings.", auto_error=False
)


@answers(503, 504)
async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session, in its unit of work: committed when the route returns — after
    the response body is built, before it is sent — and rolled back on any error. A route
    marked `core.routing.read_only` gets a read-only one (no transaction on PostgreSQL), on a
    replica when the database has one that is fresh (`core.replicarouting`)."""
    database: Database = request.app.state.database
    read_only = is_read_only(request)
    if database.replicas is not None:
        async with routed_unit_of_work(
            request, database, database.replicas, read_only=read_only
        ) as session:
            yield session
        return
    async with unit_of_work(database, read_only=read_only) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str | None:
    """The bearer token of the Authorization header (never the query string), if any."""
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    return token or None if scheme.lower() == "bearer" else None


async def resolve_principal(request: Request, token: str) -> Principal:
    """Verify `token` once per request: the outcome, a principal or the `AppError` that
    refused it, is kept on `request.state` for every later caller (gates, rate limiter)."""
    state = request_state(request)
    outcome: Principal | AppError | None = state.get("auth_outcome")
    if outcome is None:
        authenticator: Authenticator = request.app.state.authenticator
        try:
            outcome = await authenticator(request.app.state.database, token)
        except AppError as exc:
            outcome = exc
        else:
            state["principal"] = outcome
        state["auth_outcome"] = outcome
    if isinstance(outcome, AppError):
        raise outcome
    return outcome


@answers(401, 403)
async def require_root(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(root_scheme)],
) -> None:
    """Gate: the static root token (AUTH_ROOT_TOKEN); every root route is refused when unset."""
    configured = request.app.state.settings.auth.root_token
    if configured is None:
        raise Forbidden("Root access is disabled: AUTH_ROOT_TOKEN is not set.")
    if credentials is None or not constant_time_equals(
        credentials.credentials, configured.get_secret_value()
    ):
        raise Unauthorized("A valid root token is required.")


class Gates:
    """The dependency lists to attach when including a router, for one OAuth2 password flow.

    Args:
        token_url: where Swagger's Authorize dialog posts the password form.
        scopes: every scope name with the description the dialog shows.
        api_key_description: when set, a second scheme, a bearer API key, is documented on
            every gated route (Authorize then takes a pasted key). Both arrive the same way,
            as `Authorization: Bearer …`; the authenticator tells them apart.
    """

    PUBLIC: Sequence[DependsParam] = ()
    ROOT: Sequence[DependsParam] = (Depends(require_root),)

    def __init__(
        self, *, token_url: str, scopes: Mapping[str, str], api_key_description: str | None = None
    ) -> None:
        self.scheme = OAuth2PasswordBearer(
            tokenUrl=token_url, scopes=dict(scopes), auto_error=False
        )
        self.api_key_scheme = (
            HTTPBearer(scheme_name="APIKey", description=api_key_description, auto_error=False)
            if api_key_description
            else None
        )
        self.require_scopes = _scope_gate(self.scheme, self.api_key_scheme)
        self.AUTHENTICATED = self.scopes(Scope.REGULAR)
        self.ADMIN = self.scopes(Scope.ADMIN)
        self.SUPERUSER = self.scopes(Scope.SUPERUSER)

    def scopes(self, *names: str) -> Sequence[DependsParam]:
        """A gate: a valid access token holding every one of `names` (else 401/403)."""
        return (Security(self.require_scopes, scopes=list(names)),)


async def _no_api_key_scheme() -> None:
    return None


def _scope_gate(
    scheme: OAuth2PasswordBearer, api_key_scheme: HTTPBearer | None
) -> Callable[..., Awaitable[Principal]]:
    documented_key = api_key_scheme or _no_api_key_scheme

    @answers(401, 403, 503, 504)  # the token is checked against the database
    async def require_scopes(
        request: Request,
        security_scopes: SecurityScopes,
        token: Annotated[str | None, Depends(scheme)],
        _key: Annotated[HTTPAuthorizationCredentials | None, Depends(documented_key)],
    ) -> Principal:
        if not token:
            raise Unauthorized()
        principal = await resolve_principal(request, token)
        missing = [scope for scope in security_scopes.scopes if not principal.has(scope)]
        if missing:
            raise Forbidden(f"This requires the scope: {', '.join(missing)}.")
        return principal

    return require_scopes


async def current_principal(request: Request) -> Principal | None:
    """The principal resolved for this request (by a gate, or by the API-wide rate limiter when
    a public route is called with a valid token); None for anonymous callers."""
    principal: Principal | None = request_state(request).get("principal")
    return principal


PrincipalDep = Annotated[Principal | None, Depends(current_principal)]


BoundT = TypeVar("BoundT", bound=SessionBound)


def provide(cls: type[BoundT]) -> Callable[..., Any]:
    """A dependency that builds a controller or service, `cls(session, principal)`, for the
    current request."""

    @answers(on_write=(409,))  # a write that breaks a unique key or the resource's state
    async def build(session: SessionDep, principal: PrincipalDep) -> BoundT:
        return cls(session, principal)

    build.__name__ = f"provide_{cls.__name__}"
    return build
