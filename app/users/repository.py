"""Data access for users, login sessions and refresh tokens."""

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, delete, select, update

from app.users.models import AuthSession, RefreshToken, User
from core.db import utcnow
from core.repository import BaseRepository


class UserRepository(BaseRepository[User]):
    model = User
    conflict_detail = "A user with this email already exists."
    not_found_detail = "The user does not exist."

    def by_email(self, email: str) -> Select[User]:
        return self.select().where(User.email == email)

    async def active_ids(self, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `ids` that are existing, active, not deleted users — one query."""
        if not ids:
            return set()
        stmt = select(User.id).where(
            User.id.in_(ids), User.is_active.is_(True), User.deleted_at.is_(None)
        )
        return set((await self.session.scalars(stmt)).all())

    async def revoke_all_tokens(self, user: User) -> None:
        """Bump the token version: every access and refresh token issued so far stops working."""
        await self.update(user, {"token_version": user.token_version + 1})


class AuthSessionRepository(BaseRepository[AuthSession]):
    model = AuthSession

    async def revoke(self, session_id: uuid.UUID) -> None:
        """End one session (a refresh-token family) and, with it, its access tokens."""
        now = utcnow()
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )

    async def revoke_all_of(self, user_id: uuid.UUID) -> None:
        """End every open session of a user."""
        now = utcnow()
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )

    async def purge_expired(self, now: datetime) -> int:
        """Delete sessions whose last refresh token expired (their tokens are refused anyway)."""
        await self.session.execute(
            delete(RefreshToken).where(
                RefreshToken.session_id.in_(
                    select(AuthSession.id).where(AuthSession.expires_at <= now)
                )
            )
        )
        return await self.execute_write(delete(AuthSession).where(AuthSession.expires_at <= now))

    async def purge_revoked(self, before: datetime) -> int:
        """Delete sessions revoked before `before`, with their refresh tokens (refused anyway)."""
        revoked = select(AuthSession.id).where(AuthSession.revoked_at <= before)
        await self.session.execute(delete(RefreshToken).where(RefreshToken.session_id.in_(revoked)))
        return await self.execute_write(delete(AuthSession).where(AuthSession.revoked_at <= before))


class RefreshTokenRepository(BaseRepository[RefreshToken]):
    model = RefreshToken

    def by_hash(self, token_hash: str) -> Select[RefreshToken]:
        return self.select().where(RefreshToken.token_hash == token_hash)

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        """Atomically claim an unused, unexpired token; True for exactly one concurrent caller.

        A conditional UPDATE (not read-then-write): the database serialises the two writers and
        the loser sees `used_at` already set, on PostgreSQL and SQLite alike.
        """
        claimed = await self.execute_write(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.used_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(used_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return claimed == 1

    async def purge_expired(self, now: datetime) -> int:
        """Delete the rows of tokens that expired (their JWTs are refused anyway)."""
        return await self.execute_write(delete(RefreshToken).where(RefreshToken.expires_at <= now))
