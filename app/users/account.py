"""`AccountService`: the account flows that go through an emailed link — verify the address,
reset a forgotten password, change the address — each in the request's unit of work.

Asking for a link only enqueues a job after the commit (`app.users.email`), and the notice to
the old address is a plain templated email (`mailer.send_after_commit`); following a link
consumes its token with a conditional UPDATE, so a link works exactly once, however many
requests race for it. A reused, expired, superseded or forged token is one and the same 400.
"""

from app.users.controller import UserController
from app.users.email import (
    EmailTokenRepository,
    Purpose,
    mailer,
    send_email_change,
    send_password_reset,
    send_verification,
    token_hash,
)
from app.users.models import EmailToken, User
from app.users.schemas import EmailChangeRequest, PasswordResetConfirm
from app.users.tokens import password_hasher
from core.db import utcnow
from core.errors import BadRequest, Conflict, InvalidInput, field_error
from core.platform.jobs import enqueue_after_commit
from core.service import ControllerService

INVALID_LINK = "The link is invalid, was already used or has expired: ask for a new one."


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
        row = await self.tokens.one_or_none(self.tokens.by_hash(token_hash(token), purpose))
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
