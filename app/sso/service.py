"""`SsoService`: the browser flow of single sign-on, and who the provider's user is here
(the steps are in `app/sso/__init__.py`)."""

import secrets
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from app.api_keys.authentication import require_person
from app.sso.controller import IdentityController
from app.sso.models import SsoTicket, UserIdentity
from app.sso.oidc import AuthorizationRequest, OidcError, oidc_clients
from app.sso.repository import IdentityRepository, SsoTicketRepository
from app.sso.schemas import LinkStart, Redirect
from app.two_factor.schemas import MfaChallenge
from app.users.controller import UserController
from app.users.models import User
from app.users.repository import UserRepository
from app.users.schemas import TokenResponse, normalise_email
from app.users.service import AuthService
from app.users.tokens import secret_hash
from configs import get_settings
from configs.sso import SsoSettings
from core.db import utcnow
from core.errors import BadRequest, NotFound, ServiceUnavailable
from core.security import Scope, expand_scopes
from core.service import ControllerService

if TYPE_CHECKING:
    from app.sso.oidc_client import OidcClient

FLOW_INVALID = "The sign-in request is invalid, expired or was started in another browser."
CODE_INVALID = "The sign-in code is invalid, expired or already used."
BINDING_COOKIE = "plinth_sso"


def with_params(url: str, **params: str) -> str:
    """`url` with query parameters added."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


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
        return self.controller(IdentityController).repository

    @property
    def users(self) -> UserRepository:
        return self.controller(UserController).repository

    @property
    def tickets(self) -> SsoTicketRepository:
        return SsoTicketRepository(self.session)

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
        expires_at = now + timedelta(seconds=ttl)
        ticket = SsoTicket(
            key_hash=secret_hash(value), kind=kind, payload=payload, expires_at=expires_at
        )
        await self.tickets.put(ticket, now)

    async def _take(self, kind: str, value: str) -> dict[str, Any] | None:
        """The ticket's payload, removed in the same statement: one caller ever gets it."""
        return await self.tickets.take(kind, secret_hash(value), utcnow())

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
            if (
                ticket is None
                or ticket["provider"] != provider
                or not secrets.compare_digest(ticket["binding"], secret_hash(binding))
            ):
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
            "binding": secret_hash(binding),
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
            or not secrets.compare_digest(flow["binding"], secret_hash(binding))
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

    async def exchange(self, code: str) -> TokenResponse | MfaChallenge:
        """Our token pair for a one-time code: a new session with the account's scopes (or,
        for an account with a second factor, the challenge of `AuthService.sign_in`)."""
        ticket = await self._take("login", code)
        user = None
        if ticket is not None:
            user = await self.users.one_or_none(self.users.by_id(uuid.UUID(ticket["user_id"])))
        if user is None or not user.is_active:
            raise BadRequest(CODE_INVALID)
        auth = self.service(AuthService)
        return await auth.sign_in(user, expand_scopes(user.scopes))

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
        if user is not None and not self._may_link_by_email(provider, user):
            raise SsoRefused("account_exists")  # sign in as before, then link from a session
        if user is not None and not user.is_active:
            raise SsoRefused("account_disabled")
        if user is None:
            user = await self.users.add(_new_user(email, claims))
        await self._add_identity(user, provider, subject, email)
        return user

    def _may_link_by_email(self, provider: str, user: User) -> bool:
        """Whether the provider's verified address may sign in to `user`, who holds it: only
        when the provider is trusted for it (`link_by_email`), the account's address is
        verified too, and the account is not privileged."""
        configured = self.settings.provider(provider)
        privileged = bool(expand_scopes(user.scopes) & {Scope.ADMIN, Scope.SUPERUSER})
        trusted = configured is not None and configured.link_by_email
        return trusted and user.email_verified and not privileged

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

    async def link_ticket(self, provider: str, return_to: str | None, binding: str) -> LinkStart:
        """A one-time ticket that lets this browser's next flow link to the caller's account:
        it works only where the browser cookie `binding` is sent (set on this answer), so a
        link URL handed to someone else links nothing."""
        self.client(provider)
        require_person(self.me)
        target = self.return_target(return_to)
        ticket = secrets.token_urlsafe(32)
        payload = {
            "user_id": str(self.me.id),
            "provider": provider,
            "binding": secret_hash(binding),
        }
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
