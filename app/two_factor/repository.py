"""Data access for TOTP credentials, recovery codes and sign-in challenges."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Exists, Select, delete, exists, func, or_, select, update

from app.two_factor.models import RecoveryCode, SignInChallenge, TotpCredential
from core.repository import BaseRepository


class TotpCredentialRepository(BaseRepository[TotpCredential]):
    model = TotpCredential

    def of_user(self, user_id: uuid.UUID) -> Select[TotpCredential]:
        return self.select().where(TotpCredential.user_id == user_id)

    @staticmethod
    def confirmed_for(user_id: Any) -> Exists:
        """Whether `user_id` has a confirmed authenticator, as a clause: a value, or the id
        column of a statement that carries it (a sign-in reads it with the account)."""
        confirmed = TotpCredential.confirmed_at.is_not(None)
        return exists().where(TotpCredential.user_id == user_id, confirmed)

    async def is_enabled(self, user_id: uuid.UUID) -> bool:
        """Whether the user has a confirmed authenticator."""
        return bool(await self.session.scalar(select(self.confirmed_for(user_id))))

    async def claim_step(self, credential_id: uuid.UUID, step: int) -> bool:
        """Record `step` as the last one used, if it is later than the stored one: True for
        exactly one of two concurrent uses of a code (a conditional UPDATE)."""
        stale = or_(TotpCredential.last_used_step.is_(None), TotpCredential.last_used_step < step)
        claim = (
            update(TotpCredential)
            .where(TotpCredential.id == credential_id, stale)
            .values(last_used_step=step)
            .execution_options(synchronize_session=False)
        )
        return await self.execute_write(claim) == 1

    async def remove_of(self, user_id: uuid.UUID) -> None:
        """Delete the user's authenticator, pending or confirmed."""
        await self.execute_write(delete(TotpCredential).where(TotpCredential.user_id == user_id))


class RecoveryCodeRepository(BaseRepository[RecoveryCode]):
    model = RecoveryCode

    async def replace(self, user_id: uuid.UUID, hashes: list[str]) -> None:
        """The user's codes become exactly `hashes`: every older code stops working."""
        await self.remove_of(user_id)
        await self.add_many(RecoveryCode(user_id=user_id, code_hash=h) for h in hashes)

    async def use(self, user_id: uuid.UUID, code_hash: str, now: datetime) -> bool:
        """Mark the unused code used: True for exactly one concurrent caller."""
        claim = (
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == code_hash,
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return await self.execute_write(claim) == 1

    async def count_left(self, user_id: uuid.UUID) -> int:
        stmt = select(func.count()).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def remove_of(self, user_id: uuid.UUID) -> None:
        await self.execute_write(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


class SignInChallengeRepository(BaseRepository[SignInChallenge]):
    model = SignInChallenge

    def by_hash(self, token_hash: str) -> Select[SignInChallenge]:
        return self.select().where(SignInChallenge.token_hash == token_hash)

    async def put(self, challenge: SignInChallenge, now: datetime) -> None:
        """Store `challenge`, clearing out the expired ones on the way."""
        await self.execute_write(delete(SignInChallenge).where(SignInChallenge.expires_at <= now))
        await self.add(challenge)

    async def take(self, challenge_id: uuid.UUID) -> bool:
        """Delete the challenge: True for exactly one of two concurrent answers."""
        stmt = delete(SignInChallenge).where(SignInChallenge.id == challenge_id)
        return await self.execute_write(stmt) == 1

    async def remove_of(self, user_id: uuid.UUID) -> None:
        """Void every open challenge of the user."""
        await self.execute_write(delete(SignInChallenge).where(SignInChallenge.user_id == user_id))
