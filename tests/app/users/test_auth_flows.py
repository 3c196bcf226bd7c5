"""The users domain below HTTP: scope granting, the refresh-token claim, the authenticator."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.authentication import authenticate
from app.users.models import AuthSession, RefreshToken
from app.users.repository import RefreshTokenRepository
from app.users.schemas import TokenResponse
from app.users.service import AuthService, grant_scopes
from core.db import utcnow
from core.errors import Unauthorized
from core.service import unit_of_work
from tests.helpers import DEFAULT_PASSWORD, create_user, recorded_statements, selects


@pytest.mark.parametrize(
    ("requested", "held", "granted"),
    [
        ([], ["regular"], {"regular"}),
        ([], ["superuser"], {"superuser", "admin", "regular"}),
        (["regular"], ["superuser"], {"regular"}),
        (["admin"], ["superuser"], {"admin", "regular"}),
        (["superuser"], ["admin"], {"admin", "regular"}),
        (["admin", "superuser"], ["regular"], {"regular"}),
        (["made-up"], ["regular"], set()),
    ],
)
def test_granted_scopes_are_requested_and_held(
    requested: list[str], held: list[str], granted: set[str]
) -> None:
    assert grant_scopes(requested, held) == granted


async def _session_with_token(database: Any) -> str:
    user = await create_user(database)
    async with unit_of_work(database) as session:
        pair = await AuthService(session, None).login(user.email, DEFAULT_PASSWORD, [])
    assert isinstance(pair, TokenResponse)  # no second factor
    return pair.refresh_token


async def test_only_one_of_two_concurrent_claims_wins(database: Any) -> None:
    """On SQLite the two claims take turns (one pooled connection); the overlap is proven on
    PostgreSQL in tests/routers/test_concurrency.py."""
    await _session_with_token(database)
    async with unit_of_work(database) as session:
        row = (await session.scalars(select(RefreshToken))).one()

    async def claim() -> bool:
        async with unit_of_work(database) as session:
            won = await RefreshTokenRepository(session).mark_used(row.token_hash, utcnow())
            await asyncio.sleep(0)  # let the other claim run while this transaction is open
            await session.commit()
            return won

    assert sorted(await asyncio.gather(claim(), claim())) == [False, True]


async def test_an_expired_refresh_row_cannot_be_claimed(database: Any) -> None:
    await _session_with_token(database)
    async with unit_of_work(database) as session:
        row = (await session.scalars(select(RefreshToken))).one()
        later = row.expires_at + timedelta(seconds=1)
        assert not await RefreshTokenRepository(session).mark_used(row.token_hash, later)


async def test_refresh_after_logout_is_refused(database: Any) -> None:
    refresh_token = await _session_with_token(database)
    async with unit_of_work(database) as session:
        auth_session = (await session.scalars(select(AuthSession))).one()
        auth_session.revoked_at = utcnow()
        await session.commit()
    async with unit_of_work(database) as session:
        with pytest.raises(Unauthorized):
            await AuthService(session, None).refresh(refresh_token)


async def test_authenticate_costs_one_indexed_query(database: Any) -> None:
    user = await create_user(database)
    async with unit_of_work(database) as session:
        pair = await AuthService(session, None).login(user.email, DEFAULT_PASSWORD, [])
    assert isinstance(pair, TokenResponse)
    with recorded_statements(database.engine) as seen:
        principal = await authenticate(database, pair.access_token)
    assert principal.id == user.id
    assert principal.session_id is not None
    found = selects(seen)
    assert len(found) == 1
    assert "LEFT OUTER JOIN auth_sessions" in found[0]


async def test_purge_deletes_only_expired_sessions_and_tokens(database: Any) -> None:
    user = await create_user(database)
    async with unit_of_work(database) as session:
        service = AuthService(session, None)
        await service.login(user.email, DEFAULT_PASSWORD, [])
        await service.login(user.email, DEFAULT_PASSWORD, [])
    async with unit_of_work(database) as session:
        old = (await session.scalars(select(AuthSession))).first()
        assert old is not None
        past = utcnow() - timedelta(days=1)
        old.expires_at = past
        for row in (await session.scalars(select(RefreshToken))).all():
            if row.session_id == old.id:
                row.expires_at = past
        await session.commit()
        old_id = old.id
    async with unit_of_work(database) as session:
        assert await AuthService(session, None).purge_expired() == (1, 1)
    async with unit_of_work(database) as session:
        sessions = (await session.scalars(select(AuthSession))).all()
        tokens = (await session.scalars(select(RefreshToken))).all()
    assert len(sessions) == 1 and sessions[0].id != old_id
    assert len(tokens) == 1 and tokens[0].session_id == sessions[0].id
