"""`TwoFactorService`: the caller's authenticator and recovery codes, and the second step of
a sign-in (the steps are in `app/two_factor/__init__.py`)."""

import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement

from app.two_factor.codes import (
    is_totp_code,
    matching_step,
    new_recovery_codes,
    new_secret,
    normalise_code,
    provisioning_uri,
    recovery_code_hash,
    seal,
    unseal,
)
from app.two_factor.models import SignInChallenge, TotpCredential
from app.two_factor.repository import (
    RecoveryCodeRepository,
    SignInChallengeRepository,
    TotpCredentialRepository,
)
from app.two_factor.schemas import (
    Enrolment,
    EnrolmentStart,
    MfaChallenge,
    NewRecoveryCodes,
    TwoFactorStatus,
)
from app.users.controller import UserController
from app.users.models import User
from app.users.repository import AuthSessionRepository
from app.users.schemas import TokenResponse
from app.users.tokens import password_hasher, secret_hash
from configs import get_settings
from core.controller import Action
from core.db import utcnow
from core.errors import Conflict, Forbidden, InvalidInput, Unauthorized, field_error
from core.security import expand_scopes
from core.service import ControllerService

FRESH_SIGN_IN = timedelta(minutes=10)
WRONG_CODE = "The code is wrong, expired or already used."
CHALLENGE_INVALID = "The sign-in challenge is invalid, expired or answered: sign in again."
MFA_REQUIRED = (
    "This account signs in with a second factor: send `mfa_token` and a code from the "
    "authenticator app (or a recovery code) to POST /api/v1/auth/2fa/verify."
)
ALREADY_ON = "Two-factor sign-in is already on; turn it off (with a code) to set up another."
NOT_ON = "Two-factor sign-in is off."
NOTHING_PENDING = "No enrolment waits for a code: start one with POST /users/me/2fa/enrol."
SIGN_IN_AGAIN = "Sign in again (at most 10 minutes ago) to set up two-factor sign-in."


class MfaRequired(Unauthorized):
    """A sign-in passed its first factor; its `MfaChallenge` is in the problem's body."""

    title = "Second factor required"
    type_slug = "mfa-required"

    def __init__(self, challenge: MfaChallenge) -> None:
        super().__init__(MFA_REQUIRED, extensions=challenge.model_dump())


def tokens_or_challenge(outcome: TokenResponse | MfaChallenge) -> TokenResponse:
    """A sign-in's tokens, or its challenge raised as the 401 `mfa-required` problem."""
    if isinstance(outcome, MfaChallenge):
        raise MfaRequired(outcome)
    return outcome


def permitted(scopes: frozenset[str]) -> frozenset[str]:
    """`scopes` without those AUTH_TOTP_REQUIRED_SCOPES keeps from accounts lacking the factor
    (a scope that implies a required one goes too: `superuser` when `admin` is required)."""
    required = frozenset(get_settings().auth.totp_required_scopes)
    return frozenset(scope for scope in scopes if not expand_scopes([scope]) & required)


def wrong_code() -> InvalidInput:
    return InvalidInput(errors=[field_error(["body", "code"], WRONG_CODE)])


class TwoFactorService(ControllerService):
    """Enrolment, codes and challenges, in the request's unit of work."""

    @property
    def users(self) -> UserController:
        return self.controller(UserController)

    @property
    def credentials(self) -> TotpCredentialRepository:
        return TotpCredentialRepository(self.session)

    @property
    def recovery(self) -> RecoveryCodeRepository:
        return RecoveryCodeRepository(self.session)

    @property
    def challenges(self) -> SignInChallengeRepository:
        return SignInChallengeRepository(self.session)

    # -- the caller's own factor --------------------------------------------------------------

    async def status(self) -> TwoFactorStatus:
        """Whether the factor is on, pending or required, and the recovery codes left."""
        me = await self.users.caller_account()
        found = await self.credentials.one_or_none(self.credentials.of_user(me.id))
        held = expand_scopes(me.scopes)
        return TwoFactorStatus(
            enabled=found is not None and found.confirmed_at is not None,
            pending=found is not None and found.confirmed_at is None,
            required=permitted(held) != held,
            recovery_codes_left=await self.recovery.count_left(me.id),
        )

    async def start_enrolment(self, data: EnrolmentStart) -> Enrolment:
        """A new secret for the caller (replacing a pending one); 409 while the factor is on."""
        me = await self.users.caller_account()
        found = await self.credentials.one_or_none(self.credentials.of_user(me.id))
        if found is not None and found.confirmed_at is not None:
            raise Conflict(ALREADY_ON)
        await self._check_presence(me, data.current_password)
        secret = new_secret()
        if found is None:
            await self.credentials.add(TotpCredential(user_id=me.id, sealed_secret=seal(secret)))
        else:
            await self.credentials.update(found, {"sealed_secret": seal(secret)})
        return Enrolment(secret=secret, provisioning_uri=provisioning_uri(secret, me.email))

    async def confirm(self, code: str) -> NewRecoveryCodes:
        """Turn the pending authenticator on with a first code; the new recovery codes."""
        found = await self.credentials.one_or_none(self.credentials.of_user(self.me.id))
        if found is None or found.confirmed_at is not None:
            raise Conflict(NOTHING_PENDING)
        code = normalise_code(code)
        if not is_totp_code(code) or not await self._accepts_totp(found, code):
            raise wrong_code()
        await self.credentials.update(found, {"confirmed_at": utcnow()})
        return await self._new_recovery_codes(found.user_id)

    async def renew_recovery_codes(self, code: str) -> NewRecoveryCodes:
        """Ten new recovery codes for a fresh code; the old ones stop working."""
        found = await self._enabled_credential()
        if not await self._accepts(found, code):
            raise wrong_code()
        return await self._new_recovery_codes(found.user_id)

    async def disable(self, code: str) -> None:
        """Turn the factor off for a fresh code (or a recovery code)."""
        found = await self._enabled_credential()
        if not await self._accepts(found, code):
            raise wrong_code()
        await self.remove_factor(found.user_id)

    async def reset(self, user_id: uuid.UUID) -> None:
        """Admin: remove a user's factor (they lost the authenticator and the recovery codes).
        Only a superuser may reset a superuser's."""
        user = await self.users.get(user_id, action=Action.UPDATE)
        await self.remove_factor(user.id)

    async def remove_factor(self, user_id: uuid.UUID) -> None:
        """Delete the authenticator, the recovery codes and the open challenges of a user."""
        await self.credentials.remove_of(user_id)
        await self.recovery.remove_of(user_id)
        await self.challenges.remove_of(user_id)

    async def _enabled_credential(self) -> TotpCredential:
        found = await self.credentials.one_or_none(self.credentials.of_user(self.me.id))
        if found is None or found.confirmed_at is None:
            raise Conflict(NOT_ON)
        return found

    async def _new_recovery_codes(self, user_id: uuid.UUID) -> NewRecoveryCodes:
        codes = new_recovery_codes()
        await self.recovery.replace(user_id, [recovery_code_hash(code) for code in codes])
        return NewRecoveryCodes(recovery_codes=codes)

    async def _check_presence(self, me: User, password: str | None) -> None:
        """The owner is at the keyboard: the current password, or (SSO-only accounts) a
        sign-in at most FRESH_SIGN_IN ago."""
        if me.hashed_password is None:
            if not await self._signed_in_recently():
                raise Forbidden(SIGN_IN_AGAIN)
            return
        await self.commit()  # free the connection while the hash runs
        valid, _ = await password_hasher().verify(password or "", me.hashed_password)
        if not valid:
            raise InvalidInput(
                errors=[field_error(["body", "current_password"], "Incorrect password.")]
            )

    async def _signed_in_recently(self) -> bool:
        if not self.me.session_id:
            return False
        sessions = AuthSessionRepository(self.session)
        found = await sessions.one_or_none(sessions.by_id(uuid.UUID(self.me.session_id)))
        return found is not None and found.created_at >= utcnow() - FRESH_SIGN_IN

    # -- checking a code ----------------------------------------------------------------------

    async def _accepts(self, credential: TotpCredential, code: str) -> bool:
        """A TOTP code not used before, or an unused recovery code (used up now)."""
        code = normalise_code(code)
        if is_totp_code(code):
            return await self._accepts_totp(credential, code)
        return await self.recovery.use(credential.user_id, recovery_code_hash(code), utcnow())

    async def _accepts_totp(self, credential: TotpCredential, code: str) -> bool:
        """The code matches a time step later than the last one used; that step is recorded."""
        secret = unseal(credential.sealed_secret)
        step = matching_step(secret, code) if secret else None
        return step is not None and await self.credentials.claim_step(credential.id, step)

    # -- the second step of a sign-in ---------------------------------------------------------

    async def is_enabled(self, user_id: uuid.UUID) -> bool:
        """Whether the user's sign-ins need a code."""
        return await self.credentials.is_enabled(user_id)

    @staticmethod
    def enabled_for(user_id: Any) -> ColumnElement[bool]:
        """`is_enabled` as a clause on a statement's user id column: read with the account."""
        return TotpCredentialRepository.confirmed_for(user_id)

    async def scopes_for(self, user_id: uuid.UUID, scopes: frozenset[str]) -> frozenset[str]:
        """`scopes` as a session of the user may hold them (see `permitted`)."""
        narrowed = permitted(scopes)
        if narrowed == scopes or await self.is_enabled(user_id):
            return scopes
        return narrowed

    async def challenge(self, user: User, scopes: frozenset[str]) -> MfaChallenge:
        """Store the second step of `user`'s sign-in, for a session with `scopes`, and commit
        it: the request itself then fails with 401 `mfa-required`."""
        token = secrets.token_urlsafe(32)
        seconds = get_settings().auth.totp_challenge_seconds
        now = utcnow()
        challenge = SignInChallenge(
            user_id=user.id,
            token_hash=secret_hash(token),
            scopes=sorted(scopes),
            token_version=user.token_version,
            expires_at=now + timedelta(seconds=seconds),
        )
        await self.challenges.put(challenge, now)
        await self.commit()
        return MfaChallenge(mfa_token=token, expires_in=seconds)

    async def challenged_user(self, mfa_token: str) -> uuid.UUID:
        """Whom an open challenge is for (failed codes count against them); 401 otherwise."""
        return (await self._open_challenge(mfa_token)).user_id

    async def answer(self, mfa_token: str, code: str) -> tuple[User, frozenset[str]]:
        """Check `code` for the challenge's account and use the challenge up: the user and
        the scopes asked for at the first step. 401 otherwise."""
        challenge = await self._open_challenge(mfa_token)
        users = self.users.repository
        user = await users.one_or_none(users.by_id(challenge.user_id))
        found = await self.credentials.one_or_none(self.credentials.of_user(challenge.user_id))
        if (
            user is None
            or not user.is_active
            or user.token_version != challenge.token_version
            or found is None
            or found.confirmed_at is None
        ):
            raise Unauthorized(CHALLENGE_INVALID)
        if not await self._accepts(found, code):
            raise Unauthorized(WRONG_CODE)
        if not await self.challenges.take(challenge.id):
            raise Unauthorized(CHALLENGE_INVALID)
        return user, frozenset(challenge.scopes)

    async def _open_challenge(self, mfa_token: str) -> SignInChallenge:
        hashed = secret_hash(mfa_token)
        found = await self.challenges.one_or_none(self.challenges.by_hash(hashed))
        if found is None or found.expires_at <= utcnow():
            raise Unauthorized(CHALLENGE_INVALID)
        return found
