"""The multi-step account flows, each in the request's unit of work.

`AuthService`: login opens a session (a refresh-token family, whose id is the tokens' `sid`).
Refresh rotates: the presented token is claimed with one conditional UPDATE, so of two
concurrent refreshes exactly one wins; presenting a token that was already used revokes its
whole family.

`AccountService`: the flows that go through an emailed link — verify the address, reset a
forgotten password, change the address. Asking for a link only enqueues a job after the commit
(`app.users.jobs`), and the notice to the old address is a plain templated email
(`mailer.send_after_commit`); following a link consumes its token with a conditional UPDATE, so
a link works exactly once, however many requests race for it. A reused, expired, superseded or
forged token is one and the same 400.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from app.two_factor.schemas import MfaChallenge
from app.two_factor.service import TwoFactorService, permitted
from app.users.authentication import issue_access_token
from app.users.controller import UserController
from app.users.email import mailer
from app.users.jobs import send_email_change, send_password_reset, send_verification
from app.users.models import AuthSession, EmailToken, Purpose, RefreshToken, User
from app.users.repository import (
    AuthSessionRepository,
    EmailTokenRepository,
    RefreshTokenRepository,
)
from app.users.schemas import (
    EmailChangeRequest,
    MeUpdate,
    PasswordResetConfirm,
    SuperuserCreate,
    TokenResponse,
    UserRegister,
    normalise_email,
)
from app.users.tokens import password_hasher, refresh_token_hash, secret_hash, token_service
from configs import get_settings
from core import audit
from core.db import new_id, utcnow
from core.errors import BadRequest, Conflict, Forbidden, InvalidInput, Unauthorized, field_error
from core.platform.jobs import enqueue_after_commit
from core.security import Scope, TokenType, expand_scopes
from core.service import ControllerService

LOGIN_FAILED = "Incorrect email or password."
REFRESH_FAILED = "The refresh token is invalid, expired or revoked."
UNVERIFIED = (
    "Confirm your email address first: follow the link we sent you "
    "(POST /api/v1/auth/verify-email/resend sends a new one)."
)
INVALID_LINK = "The link is invalid, was already used or has expired: ask for a new one."
RACED = (
    "This refresh token was rotated moments ago by another request of this session; "
    "use the pair that request received."
)


def grant_scopes(requested: Iterable[str], held: Iterable[str]) -> frozenset[str]:
    """Requested ∩ held (with implied scopes); nothing requested means everything held."""
    held_scopes = expand_scopes(held)
    wanted = list(requested)
    if not wanted:
        return held_scopes
    return expand_scopes(wanted) & held_scopes


class AuthService(ControllerService):
    """Register, log in, rotate, log out, and the account changes that revoke tokens."""

    @property
    def users(self) -> UserController:
        return self.controller(UserController)

    @property
    def sessions(self) -> AuthSessionRepository:
        return AuthSessionRepository(self.session)

    @property
    def refresh_tokens(self) -> RefreshTokenRepository:
        return RefreshTokenRepository(self.session)

    # -- accounts -----------------------------------------------------------------------------

    async def register(self, data: UserRegister) -> User:
        """A new `regular` user (the body can never grant more); a verification link is sent
        once the account is committed.

        For an address that already has an account the answer looks the same (an unsaved user
        with a fresh id), after the same password hash; the owner is told by mail instead, so
        registering reveals nothing about which addresses have accounts."""
        repository = self.users.repository
        if not await repository.exists(repository.by_email(data.email)):
            user = await self.users.create(data, scopes=[Scope.REGULAR])
            enqueue_after_commit(self, send_verification, email=user.email)
            return user
        await self.commit()  # free the connection while the hash runs
        await password_hasher().hash(data.password)  # the cost of creating an account
        mailer.send_after_commit(
            self, to=data.email, template="register_notice", context={"email": data.email}
        )
        return _unsaved_user(data)

    async def create_superuser(self, data: SuperuserCreate) -> User:
        """A new superuser (root token, CLI, first start of the embedded default); its address
        counts as verified, since an operator made it."""
        user = await self.users.create(data, scopes=[Scope.SUPERUSER])
        return await self.users.repository.update(user, {"email_verified": True})

    # -- tokens -------------------------------------------------------------------------------

    async def login(
        self, email: str, password: str, requested: Iterable[str]
    ) -> TokenResponse | MfaChallenge:
        """Check the password (same answer and cost whether or not the user exists), then
        `sign_in`: the session's first token pair, or the second step's challenge."""
        max_length = get_settings().auth.password_max_length
        if len(password) > max_length:
            raise InvalidInput(
                errors=[field_error(["body", "password"], f"At most {max_length} characters.")]
            )
        repository = self.users.repository
        found = await repository.by_email_with(
            normalise_email(email), TwoFactorService.enabled_for(User.id)
        )
        user, second_factor = found or (None, False)
        await self.commit()  # end the read: the connection is free while the hash runs
        valid, new_hash = await password_hasher().verify(
            password, user.hashed_password if user else None
        )
        if user is None or not valid or not user.is_active:
            raise Unauthorized(LOGIN_FAILED)
        if not user.email_verified and not get_settings().auth.allow_unverified_login:
            raise Forbidden(UNVERIFIED)
        granted = grant_scopes(requested, user.scopes)
        if not granted:
            raise BadRequest("invalid_scope: none of the requested scopes is granted.")
        if new_hash:
            await repository.update(user, {"hashed_password": new_hash})
        return await self.sign_in(user, granted, second_factor=second_factor)

    async def refresh(self, token: str) -> TokenResponse:
        """Rotate a refresh token. A token used again within AUTH_REFRESH_GRACE_SECONDS of its
        rotation is a racing client: 409, nothing revoked. Later, it means the token leaked:
        401, and the whole family is revoked."""
        claims = token_service().verify(token, TokenType.REFRESH)
        token_hash = refresh_token_hash(claims["jti"])
        if await self.refresh_tokens.mark_used(token_hash, utcnow()):
            return await self._rotate(claims)
        row = await self.refresh_tokens.one_or_none(self.refresh_tokens.by_hash(token_hash))
        if row is None or row.used_at is None:
            raise Unauthorized(REFRESH_FAILED)
        if _within_grace(row.used_at) and str(row.session_id) == claims.get("sid"):
            raise Conflict(RACED)  # a racing client (two tabs, a retry): the session lives
        await self.sessions.revoke(row.session_id)
        await self.commit()  # the revocation stands although the request fails
        raise Unauthorized("The refresh token was already used; the session is revoked.")

    async def logout(self) -> None:
        """End the caller's session: its refresh tokens and access tokens stop working."""
        if self.me.session_id:
            await self.sessions.revoke(_session_uuid(self.me.session_id))
        else:  # a token issued outside any session: the only way to end it is to end all
            await self.users.revoke_all_sessions(await self.users.caller_account())

    async def logout_all(self) -> None:
        """End every session of the caller, on every device."""
        await self.users.revoke_all_sessions(await self.users.caller_account())

    async def purge_expired(self) -> tuple[int, int]:
        """Delete expired sessions and refresh-token rows; returns how many of each."""
        now = utcnow()
        tokens = await self.refresh_tokens.purge_expired(now)
        sessions = await self.sessions.purge_expired(now)
        return sessions, tokens

    async def sign_in(
        self, user: User, scopes: frozenset[str], *, second_factor: bool | None = None
    ) -> TokenResponse | MfaChallenge:
        """After a first factor (password, SSO): a session and its first pair — or, when the
        account has a second factor, the challenge `finish_sign_in` answers. Without one, the
        scopes AUTH_TOTP_REQUIRED_SCOPES names are left out. `second_factor`: whether it has
        one, when the caller read it with the account (else it is read here)."""
        two_factor = self.service(TwoFactorService)
        if second_factor is None:
            second_factor = await two_factor.is_enabled(user.id)
        if second_factor:
            return await two_factor.challenge(user, scopes)
        return await self._open_session(user, permitted(scopes))

    async def finish_sign_in(self, mfa_token: str, code: str) -> TokenResponse:
        """The second step: a session for the challenge's account once `code` is accepted,
        with the scopes asked for at the first step that the account still holds."""
        user, requested = await self.service(TwoFactorService).answer(mfa_token, code)
        return await self._open_session(user, grant_scopes(requested, user.scopes))

    async def open_session(self, user: User, scopes: frozenset[str]) -> TokenResponse:
        """A new session for `user` with `scopes` and its first token pair, with no second step
        (sign-ins go through `sign_in`)."""
        return await self._open_session(user, scopes)

    async def _open_session(self, user: User, scopes: frozenset[str]) -> TokenResponse:
        """A new login session and its first pair: both rows inserted in one flush, the
        session already carrying its refresh token's expiry. Beyond AUTH_MAX_SESSIONS_PER_USER
        live sessions, the user's oldest end (as signing in on one device too many would)."""
        keep = get_settings().auth.max_sessions_per_user - 1
        await self.sessions.revoke_all_but_newest(user.id, keep, utcnow())
        auth_session = AuthSession(id=new_id(), user_id=user.id)
        self.session.add(auth_session)
        return await self._issue_pair(user, scopes, auth_session)

    async def _issue_pair(
        self, user: User, scopes: frozenset[str], auth_session: AuthSession
    ) -> TokenResponse:
        """Tokens for `auth_session`; its expiry moves to the new refresh token's."""
        scope = " ".join(sorted(scopes))
        sid = str(auth_session.id)
        access, expires_in = issue_access_token(user, scopes, sid)
        refresh, claims = token_service().issue(
            user.id, TokenType.REFRESH, {"sid": sid, "scope": scope, "ver": user.token_version}
        )
        expires_at = datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo)
        auth_session.expires_at = expires_at
        await self.refresh_tokens.add(
            RefreshToken(
                session_id=auth_session.id,
                user_id=user.id,
                token_hash=refresh_token_hash(claims["jti"]),
                expires_at=expires_at,
            )
        )
        return TokenResponse(
            access_token=access, refresh_token=refresh, expires_in=expires_in, scope=scope
        )

    async def _rotate(self, claims: dict[str, object]) -> TokenResponse:
        auth_session = await self.sessions.one_or_none(
            self.sessions.by_id(_session_uuid(claims.get("sid")))
        )
        user = await self.users.repository.one_or_none(
            self.users.repository.by_id(uuid.UUID(str(claims["sub"])))
        )
        if (
            auth_session is None
            or auth_session.revoked_at is not None
            or user is None
            or auth_session.user_id != user.id
            or not user.is_active
            or user.token_version != claims.get("ver")
        ):
            raise Unauthorized(REFRESH_FAILED)
        scopes = grant_scopes(str(claims.get("scope", "")).split(), user.scopes)
        scopes = await self.service(TwoFactorService).scopes_for(user.id, scopes)
        if not scopes:
            raise Unauthorized(REFRESH_FAILED)
        return await self._issue_pair(user, scopes, auth_session)

    # -- own account --------------------------------------------------------------------------

    async def update_me(self, data: MeUpdate) -> tuple[User, TokenResponse | None]:
        """Change one's name and/or password. A new password ends every session and token —
        this one included — and the answer carries a fresh pair for the caller."""
        me = await self.users.caller_account()
        hashed = None
        if data.password is not None:
            # Hashing takes tens of milliseconds: give the pooled connection back first (the
            # embedded SQLite default has one). A commit, unlike a rollback, keeps loaded rows.
            await self.commit()
            valid, _ = await password_hasher().verify(
                data.current_password or "", me.hashed_password
            )
            if not valid:
                raise InvalidInput(
                    errors=[field_error(["body", "current_password"], "Incorrect password.")]
                )
            hashed = await password_hasher().hash(data.password)
        tokens = None
        if data.full_name is not None:
            await self.users.repository.update(me, {"full_name": data.full_name})
        if hashed is not None:
            await self.users.repository.update(me, {"hashed_password": hashed})
            audit.record(self, "password_change", entity="user", entity_id=me.id)
            await self.users.revoke_all_sessions(me)
            tokens = await self._open_session(me, self.me.scopes)
        return me, tokens

    async def delete_me(self) -> None:
        """Soft-delete one's own account and end its sessions."""
        me = await self.users.caller_account()
        await self.users.perform_delete(me)
        audit.record(self, "delete", entity="user", entity_id=me.id)


class AccountService(ControllerService):
    """Verify, reset and change-address flows."""

    @property
    def users(self) -> UserController:
        return self.controller(UserController)

    @property
    def tokens(self) -> EmailTokenRepository:
        return EmailTokenRepository(self.session)

    # -- asking for a link (the same work for any address) ------------------------------------

    def request_verification(self, email: str) -> None:
        """Send a new verification link, if `email` is an unverified live account's."""
        enqueue_after_commit(self, send_verification, email=email)

    def request_password_reset(self, email: str) -> None:
        """Send a reset link, if `email` is a live account's."""
        enqueue_after_commit(self, send_password_reset, email=email)

    async def request_email_change(self, data: EmailChangeRequest) -> None:
        """The caller asks to move to `data.email` (current password required): a link to the
        new address, a notice to the current one; nothing changes until the link is followed."""
        me = await self.users.caller_account()
        if data.email == me.email:
            raise InvalidInput(
                errors=[field_error(["body", "email"], "This is already your address.")]
            )
        await self.commit()  # free the connection while the hash runs
        valid, _ = await password_hasher().verify(data.current_password, me.hashed_password)
        if not valid:
            raise InvalidInput(
                errors=[field_error(["body", "current_password"], "Incorrect password.")]
            )
        enqueue_after_commit(self, send_email_change, user_id=str(me.id), new_email=data.email)
        user = {"email": me.email, "full_name": me.full_name}
        notice = {"user": user, "new_email": data.email}
        mailer.send_after_commit(self, to=me.email, template="change_notice", context=notice)

    # -- following a link ---------------------------------------------------------------------

    async def verify_email(self, token: str) -> None:
        """Mark the address verified."""
        _, user = await self.consume(token, Purpose.VERIFY)
        await self.users.repository.update(user, {"email_verified": True})

    async def reset_password(self, data: PasswordResetConfirm) -> None:
        """Set the new password and end every session: the old tokens stop working and a
        fresh login is needed. Following the link also proves the address."""
        await self.find(data.token, Purpose.RESET)
        await self.commit()  # nothing written yet: free the connection while the hash runs
        hashed = await password_hasher().hash(data.password)
        _, user = await self.consume(data.token, Purpose.RESET)
        await self.users.repository.update(
            user, {"hashed_password": hashed, "email_verified": True}
        )
        audit.record(self, "password_reset", entity="user", entity_id=user.id, user_id=user.id)
        await self.users.revoke_all_sessions(user)
        await self.tokens.supersede(user.id, [Purpose.RESET], utcnow())

    async def confirm_email_change(self, token: str) -> None:
        """Move the account to the confirmed address; links sent to the old one die."""
        row, user = await self.find(token, Purpose.CHANGE)
        assert row.new_email is not None
        repository = self.users.repository
        if await repository.exists(repository.by_email(row.new_email)):
            raise Conflict(repository.conflict_detail)
        await self.consume(token, Purpose.CHANGE)
        await repository.update(user, {"email": row.new_email, "email_verified": True})
        await self.tokens.supersede(user.id, list(Purpose), utcnow())

    async def find(self, token: str, purpose: Purpose) -> tuple[EmailToken, User]:
        """The open token and its live, active user; 400 otherwise (the same for every case)."""
        row = await self.tokens.one_or_none(self.tokens.by_hash(secret_hash(token), purpose))
        if row is None or row.used_at is not None or row.expires_at <= utcnow():
            raise BadRequest(INVALID_LINK)
        repository = self.users.repository
        user = await repository.one_or_none(repository.by_id(row.user_id))
        if user is None or not user.is_active:
            raise BadRequest(INVALID_LINK)
        return row, user

    async def consume(self, token: str, purpose: Purpose) -> tuple[EmailToken, User]:
        """`find`, then claim the token: of two concurrent uses exactly one gets past here."""
        row, user = await self.find(token, purpose)
        if not await self.tokens.claim(row.id, utcnow()):
            raise BadRequest(INVALID_LINK)
        return row, user


def _unsaved_user(data: UserRegister) -> User:
    """What registering `data` would have answered: never stored."""
    now = utcnow()
    return User(
        id=new_id(),
        created_at=now,
        updated_at=now,
        email=data.email,
        full_name=data.full_name,
        scopes=[Scope.REGULAR.value],
        is_active=True,
        email_verified=False,
    )


def _within_grace(used_at: datetime) -> bool:
    grace = timedelta(seconds=get_settings().auth.refresh_grace_seconds)
    return utcnow() - used_at <= grace


def _session_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Unauthorized(REFRESH_FAILED) from exc
