"""Single sign-on with OpenID Connect: the browser flow, and who the provider's user is here.

1. `GET /auth/sso/{provider}/authorize?return_to=…` stores a flow (state, nonce, PKCE
   verifier, the allowlisted `return_to`, a hash of a random browser cookie) and redirects to
   the provider.
2. `GET /auth/sso/{provider}/callback?code&state` takes the flow back once (a DELETE …
   RETURNING: single use), checks the cookie, exchanges the code, validates the ID token, finds
   or creates the account, and redirects to `return_to?code=<one-time code>` (or
   `?error=<reason>`).
3. `POST /auth/sso/exchange {code}` trades the one-time code (60 s, single use) for our own
   token pair: a session like a password login's. Tokens never travel in a URL.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field
from sqlalchemy import JSON, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from app.users.api_keys import KEYS_NEED_A_PERSON
from app.users.identities import IdentityRepository, UserIdentity
from app.users.models import User
from app.users.oidc import AuthorizationRequest, OidcError, oidc_clients
from app.users.repository import UserRepository
from app.users.schemas import TokenResponse, normalise_email
from app.users.service import AuthService
from configs import get_settings
from configs.sso import SsoSettings
from core.db import Entity, utcnow
from core.errors import BadRequest, Forbidden, NotFound, ServiceUnavailable
from core.security import Scope, expand_scopes
from core.service import ControllerService

if TYPE_CHECKING:
    from app.users.oidc_client import OidcClient

FLOW_INVALID = "The sign-in request is invalid, expired or was started in another browser."
CODE_INVALID = "The sign-in code is invalid, expired or already used."
BINDING_COOKIE = "plinth_sso"


class SsoTicket(Entity):
    """A single-use value (flow state, one-time sign-in code, link ticket), stored hashed."""

    __tablename__ = "sso_tickets"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def with_params(url: str, **params: str) -> str:
    """`url` with query parameters added."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


class ProviderRead(BaseModel):
    """A provider users can sign in with."""

    name: str
    display_name: str
    authorize_url: str


class ExchangeRequest(BaseModel):
    """The one-time code the callback sent to the frontend."""

    model_config = {"extra": "forbid"}

    code: str = Field(min_length=1, max_length=200)


class LinkRequest(BaseModel):
    """Where the browser returns once the provider account is linked (allowlisted)."""

    model_config = {"extra": "forbid"}

    return_to: str | None = Field(default=None, max_length=2000)


class LinkStart(BaseModel):
    """Open `authorize_url` in the browser (it holds a one-time ticket, valid 60 s)."""

    authorize_url: str


@dataclass(frozen=True)
class Redirect:
    """Where the callback sends the browser."""

    url: str


class SsoRefused(Exception):
    """The provider's user cannot sign in here; `code` goes to the frontend."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SsoService(ControllerService):
    """The SSO flow in the request's unit of work."""

    @property
    def settings(self) -> SsoSettings:
        return get_settings().sso

    @property
    def identities(self) -> IdentityRepository:
        return IdentityRepository(self.session)

    @property
    def users(self) -> UserRepository:
        return UserRepository(self.session)

    def client(self, provider: str) -> "OidcClient":
        """The provider's client; 404 for a name that is not configured."""
        found = oidc_clients().get(provider)
        if found is None:
            raise NotFound("There is no such sign-in provider.")
        return found

    def callback_url(self, provider: str, base_url: str) -> str:
        """The redirect URI registered at the provider: SSO_PUBLIC_URL (else this request's
        base URL, fine for development) + the callback path."""
        base = (self.settings.public_url or base_url).rstrip("/")
        return f"{base}/api/v1/auth/sso/{provider}/callback"

    def return_target(self, return_to: str | None) -> str:
        """An allowlisted frontend URL, compared exactly; default: the first one."""
        allowlist = self.settings.redirect_allowlist
        if not allowlist:
            raise NotFound("Single sign-on is not configured (SSO_REDIRECT_ALLOWLIST).")
        if return_to is None:
            return allowlist[0]
        if return_to not in allowlist:
            raise BadRequest("return_to is not an allowed redirect target.")
        return return_to

    # -- tickets ------------------------------------------------------------------------------

    async def _put(self, kind: str, value: str, payload: dict[str, Any], ttl: int) -> None:
        now = utcnow()
        await self.session.execute(delete(SsoTicket).where(SsoTicket.expires_at <= now))
        self.session.add(
            SsoTicket(
                key_hash=_digest(value),
                kind=kind,
                payload=payload,
                expires_at=now + timedelta(seconds=ttl),
            )
        )
        await self.session.flush()

    async def _take(self, kind: str, value: str) -> dict[str, Any] | None:
        """The ticket's payload, removed in the same statement: one caller ever gets it."""
        result = await self.session.execute(
            delete(SsoTicket)
            .where(SsoTicket.key_hash == _digest(value), SsoTicket.kind == kind)
            .returning(SsoTicket.payload, SsoTicket.expires_at)
        )
        row = result.one_or_none()
        if row is None or row.expires_at <= utcnow():
            return None
        payload: dict[str, Any] = row.payload
        return payload

    # -- the browser flow ---------------------------------------------------------------------

    async def start(
        self,
        provider: str,
        *,
        base_url: str,
        return_to: str | None,
        binding: str,
        link: str | None = None,
        login_hint: str | None = None,
    ) -> str:
        """Store a new flow bound to the browser cookie `binding`; the provider URL to visit."""
        client = self.client(provider)
        target = self.return_target(return_to)
        link_user = None
        if link is not None:
            ticket = await self._take("link", link)
            if ticket is None or ticket["provider"] != provider:
                raise BadRequest(FLOW_INVALID)
            link_user = ticket["user_id"]
        redirect_uri = self.callback_url(provider, base_url)
        request = await _provider_call(client, redirect_uri, login_hint)
        flow = {
            "provider": provider,
            "nonce": request.nonce,
            "code_verifier": request.code_verifier,
            "return_to": target,
            "redirect_uri": redirect_uri,
            "binding": _digest(binding),
            "link_user": link_user,
        }
        await self._put("state", request.state, flow, self.settings.state_ttl_seconds)
        return request.url

    async def finish(
        self, provider: str, *, state: str, binding: str | None, code: str | None, error: str | None
    ) -> Redirect:
        """Check the flow, then sign in (or link); failures after a valid state go back to the
        frontend as `?error=`, failures before are a 400."""
        flow = await self._take("state", state)
        if (
            flow is None
            or flow["provider"] != provider
            or binding is None
            or not secrets.compare_digest(flow["binding"], _digest(binding))
        ):
            raise BadRequest(FLOW_INVALID)
        try:
            result = await self._finish(provider, flow, code, error)
        except SsoRefused as refused:
            return Redirect(with_params(flow["return_to"], error=refused.code))
        return Redirect(with_params(flow["return_to"], **result))

    async def _finish(
        self, provider: str, flow: dict[str, Any], code: str | None, error: str | None
    ) -> dict[str, str]:
        if error is not None or not code:
            raise SsoRefused("access_denied" if error == "access_denied" else "provider_error")
        try:
            claims = await self.client(provider).exchange(
                code=code,
                redirect_uri=flow["redirect_uri"],
                code_verifier=flow["code_verifier"],
                nonce=flow["nonce"],
            )
        except OidcError as exc:
            raise SsoRefused(exc.code) from exc
        if flow["link_user"] is not None:
            await self._link(provider, claims, uuid.UUID(flow["link_user"]))
            return {"linked": provider}
        user = await self._sign_in(provider, claims)
        one_time = secrets.token_urlsafe(32)
        payload = {"user_id": str(user.id)}
        await self._put("login", one_time, payload, self.settings.code_ttl_seconds)
        return {"code": one_time}

    async def exchange(self, code: str) -> TokenResponse:
        """Our token pair for a one-time code: a new session with the account's scopes."""
        ticket = await self._take("login", code)
        user = None
        if ticket is not None:
            user = await self.users.one_or_none(self.users.by_id(uuid.UUID(ticket["user_id"])))
        if user is None or not user.is_active:
            raise BadRequest(CODE_INVALID)
        auth = self.service(AuthService)
        return await auth.open_session(user, expand_scopes(user.scopes))

    # -- accounts -----------------------------------------------------------------------------

    async def _sign_in(self, provider: str, claims: dict[str, Any]) -> User:
        subject = str(claims["sub"])
        identity = await self.identities.one_or_none(self.identities.by_subject(provider, subject))
        if identity is not None:
            user = await self.users.one_or_none(self.users.by_id(identity.user_id))
            if user is None or not user.is_active:
                raise SsoRefused("account_disabled")
            identity.last_login_at = utcnow()
            return user
        email = _verified_email(claims)
        user = await self.users.one_or_none(self.users.by_email(email))
        if user is not None and not user.email_verified:
            raise SsoRefused("account_exists")  # sign in with the password, then link
        if user is not None and not user.is_active:
            raise SsoRefused("account_disabled")
        if user is None:
            user = await self.users.add(_new_user(email, claims))
        await self._add_identity(user, provider, subject, email)
        return user

    async def _link(self, provider: str, claims: dict[str, Any], user_id: uuid.UUID) -> None:
        subject = str(claims["sub"])
        identity = await self.identities.one_or_none(self.identities.by_subject(provider, subject))
        if identity is not None:
            if identity.user_id != user_id:
                raise SsoRefused("identity_in_use")
            return
        user = await self.users.one_or_none(self.users.by_id(user_id))
        if user is None or not user.is_active:
            raise SsoRefused("account_disabled")
        email = claims.get("email")
        await self._add_identity(user, provider, subject, str(email) if email else None)

    async def _add_identity(
        self, user: User, provider: str, subject: str, email: str | None
    ) -> None:
        identity = UserIdentity(
            user_id=user.id, provider=provider, subject=subject, email=email, last_login_at=utcnow()
        )
        await self.identities.add(identity)

    async def link_ticket(self, provider: str, return_to: str | None) -> LinkStart:
        """A one-time ticket that lets this browser's next flow link to the caller's account."""
        self.client(provider)
        if self.me.api_key_id is not None:
            raise Forbidden(KEYS_NEED_A_PERSON)
        target = self.return_target(return_to)
        ticket = secrets.token_urlsafe(32)
        payload = {"user_id": str(self.me.id), "provider": provider}
        await self._put("link", ticket, payload, self.settings.code_ttl_seconds)
        url = with_params(f"/api/v1/auth/sso/{provider}/authorize", return_to=target, link=ticket)
        return LinkStart(authorize_url=url)


def _verified_email(claims: dict[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SsoRefused("email_required")
    if claims.get("email_verified") not in (True, "true"):
        raise SsoRefused("email_not_verified")
    return normalise_email(email)


def _new_user(email: str, claims: dict[str, Any]) -> User:
    name = claims.get("name")
    return User(
        email=email,
        hashed_password=None,
        full_name=name[:200] if isinstance(name, str) else "",
        scopes=[Scope.REGULAR.value],
        email_verified=True,
    )


async def _provider_call(
    client: "OidcClient", redirect_uri: str, login_hint: str | None
) -> AuthorizationRequest:
    try:
        return await client.authorization_request(redirect_uri, login_hint)
    except OidcError as exc:
        raise ServiceUnavailable(exc.detail) from exc
