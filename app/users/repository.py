"""Data access for users, login sessions, refresh tokens and emailed links' tokens, and the
statement the authenticator runs on every request."""

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.sql import ColumnElement

from app.users.models import AuthSession, EmailToken, Purpose, RefreshToken, User
from core.db import utcnow
from core.repository import BaseRepository

USED_KEPT_FOR = timedelta(days=1)  # a consumed email token's row stays a day, for support

ACCOUNT_AND_SESSION = (
    select(
        *User.__table__.columns,
        AuthSession.revoked_at.label("session_revoked_at"),
        AuthSession.id.label("session_found"),
    )
    .outerjoin(
        AuthSession,
        and_(AuthSession.id == bindparam("sid"), AuthSession.user_id == User.id),
    )
    .where(User.id == bindparam("uid"))
)
"""One round trip per request: the account's columns by primary key (bound as `uid`), with the
token's session (`sid`) joined on its primary key. Built once; each request only binds the two
ids. Core, not ORM: the account is a read-only snapshot (`Principal.account`); code that changes
the user loads the entity in its own unit of work (`UserController.caller_account`)."""


def _claim(
    model: type[RefreshToken | EmailToken],
    condition: ColumnElement[bool],
    now: datetime,
    **values: Any,
) -> Update:
    """Mark the token that meets `condition` used, if it is unused and unexpired. A conditional
    UPDATE, not read-then-write: of two concurrent claims the database lets exactly one match."""
    return (
        update(model)
        .where(condition, model.used_at.is_(None), model.expires_at > now)
        .values(used_at=now, **values)
        .execution_options(synchronize_session=False)
    )


class UserRepository(BaseRepository[User]):
    model = User
    conflict_detail = "A user with this email already exists."
    not_found_detail = "The user does not exist."

    def by_email(self, email: str) -> Select[User]:
        return self.select().where(User.email == email)

    async def by_email_with(
        self, email: str, flag: ColumnElement[bool]
    ) -> tuple[User, bool] | None:
        """The live account with `email` and `flag` (a clause on `User.id`) in one statement:
        a sign-in reads whether the account has a second factor with it."""
        row = (await self.session.execute(self.by_email(email).add_columns(flag).limit(1))).first()
        return None if row is None else (row[0], bool(row[1]))

    @staticmethod
    def _active(ids: Collection[uuid.UUID]) -> ColumnElement[bool]:
        return and_(User.id.in_(ids), User.is_active.is_(True), User.deleted_at.is_(None))

    async def active_ids(self, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `ids` that are existing, active, not deleted users — one query."""
        if not ids:
            return set()
        return set((await self.session.scalars(select(User.id).where(self._active(ids)))).all())

    async def token_states(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """`id`, `token_version` and `scopes` of those of `ids` that are active, live users."""
        stmt = select(User.id, User.token_version, User.scopes).where(self._active(ids))
        return {row.id: row for row in await self.session.execute(stmt)}

    async def revoke_all_tokens(self, user: User) -> None:
        """Bump the token version: every access and refresh token issued so far stops working."""
        await self.update(user, {"token_version": user.token_version + 1})


_sessions = cast(Table, AuthSession.__table__).c
_OLDER_SESSIONS = (
    select(_sessions.id)
    .where(
        _sessions.user_id == bindparam("uid"),
        _sessions.revoked_at.is_(None),
        _sessions.expires_at > bindparam("now"),
    )
    .order_by(_sessions.created_at.desc(), _sessions.id.desc())
    .offset(bindparam("keep", type_=Integer))
)
_REVOKE_ALL_BUT_NEWEST = (
    update(cast(Table, AuthSession.__table__))
    .where(_sessions.id.in_(_OLDER_SESSIONS), _sessions.revoked_at.is_(None))
    .values(revoked_at=bindparam("at"), updated_at=bindparam("at"))
)
"""The session cap, run at every sign-in: built once (like `ACCOUNT_AND_SESSION`), bound with
the user (`uid`), how many to keep (`keep`), the time live sessions outlast (`now`) and the
revocation time (`at`). Core, on the table: the ORM would copy the unbound values onto loaded
sessions, and a sign-in has none loaded."""


class AuthSessionRepository(BaseRepository[AuthSession]):
    model = AuthSession

    async def _revoke_where(self, condition: ColumnElement[bool]) -> None:
        now = utcnow()
        await self.session.execute(
            update(AuthSession)
            .where(condition, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )

    async def revoke(self, session_id: uuid.UUID) -> None:
        """End one session (a refresh-token family) and, with it, its access tokens."""
        await self._revoke_where(AuthSession.id == session_id)

    async def revoke_of(self, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
        """End one session of `user_id` (nothing when the session is another user's)."""
        await self._revoke_where(and_(AuthSession.id == session_id, AuthSession.user_id == user_id))

    async def revoke_all_of(self, user_id: uuid.UUID) -> None:
        """End every open session of a user."""
        await self._revoke_where(AuthSession.user_id == user_id)

    async def revoke_all_but_newest(self, user_id: uuid.UUID, keep: int, now: datetime) -> None:
        """End the user's live sessions except the `keep` most recently opened."""
        at = utcnow()
        params = {"uid": user_id, "keep": keep, "now": now, "at": at}
        await self.session.execute(_REVOKE_ALL_BUT_NEWEST, params)

    async def open_ids(self, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `ids` that are sessions not logged out."""
        stmt = select(AuthSession.id).where(
            AuthSession.id.in_(ids), AuthSession.revoked_at.is_(None)
        )
        return set(await self.session.scalars(stmt))

    async def _purge_where(self, condition: ColumnElement[bool]) -> int:
        """Delete the sessions that meet `condition`, with their refresh tokens."""
        doomed = select(AuthSession.id).where(condition)
        await self.session.execute(delete(RefreshToken).where(RefreshToken.session_id.in_(doomed)))
        return await self.execute_write(delete(AuthSession).where(condition))

    async def purge_expired(self, now: datetime) -> int:
        """Delete sessions whose last refresh token expired (their tokens are refused anyway)."""
        return await self._purge_where(AuthSession.expires_at <= now)

    async def purge_revoked(self, before: datetime) -> int:
        """Delete sessions revoked before `before`, with their refresh tokens (refused anyway)."""
        return await self._purge_where(AuthSession.revoked_at <= before)


class RefreshTokenRepository(BaseRepository[RefreshToken]):
    model = RefreshToken

    def by_hash(self, token_hash: str) -> Select[RefreshToken]:
        return self.select().where(RefreshToken.token_hash == token_hash)

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        """Atomically claim an unused, unexpired token; True for exactly one concurrent caller.

        A conditional UPDATE (not read-then-write): the database serialises the two writers and
        the loser sees `used_at` already set, on PostgreSQL and SQLite alike.
        """
        claim = _claim(RefreshToken, RefreshToken.token_hash == token_hash, now, updated_at=now)
        return await self.execute_write(claim) == 1

    async def purge_expired(self, now: datetime) -> int:
        """Delete the rows of tokens that expired (their JWTs are refused anyway)."""
        return await self.execute_write(delete(RefreshToken).where(RefreshToken.expires_at <= now))


class EmailTokenRepository(BaseRepository[EmailToken]):
    model = EmailToken

    def by_hash(self, hashed: str, purpose: Purpose) -> Select[EmailToken]:
        return self.select().where(EmailToken.token_hash == hashed, EmailToken.purpose == purpose)

    async def claim(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Consume an unused, unexpired token; True for exactly one concurrent caller."""
        return await self.execute_write(_claim(EmailToken, EmailToken.id == token_id, now)) == 1

    async def supersede(self, user_id: uuid.UUID, purposes: list[Purpose], now: datetime) -> None:
        """Mark every open token of the user with one of `purposes` used: only the newest
        link works, and a password reset or address change kills the older ones."""
        await self.session.execute(
            update(EmailToken)
            .where(
                EmailToken.user_id == user_id,
                EmailToken.purpose.in_(purposes),
                EmailToken.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )

    async def purge(self, now: datetime) -> int:
        """Delete expired tokens and those used over a day ago."""
        return await self.execute_write(
            delete(EmailToken).where(
                or_(EmailToken.expires_at <= now, EmailToken.used_at <= now - USED_KEPT_FOR)
            )
        )
