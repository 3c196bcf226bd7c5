"""Refresh rotation that survives a racing client: a token presented again within
AUTH_REFRESH_GRACE_SECONDS of its rotation is refused (409) and the session lives on; after
the grace period, reuse is theft and revokes the whole family."""

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.users.models import AuthSession, RefreshToken
from tests.app.users.support import me, refresh, rotated_long_ago, tokens
from tests.conftest import Leg, client_for
from tests.helpers import create_user
from tests.routers.test_concurrency import while_held

RACERS = 20


async def test_twenty_parallel_refreshes_leave_exactly_one_working_pair(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    pair = await tokens(client)
    results = await asyncio.gather(*(refresh(client, pair["refresh_token"]) for _ in range(RACERS)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [409] * (RACERS - 1), statuses
    loser = next(r for r in results if r.status_code == 409)
    assert loser.headers["content-type"] == "application/problem+json"
    winner = next(r for r in results if r.status_code == 200).json()
    assert (await me(client, winner["access_token"])).status_code == 200
    assert (await refresh(client, winner["refresh_token"])).status_code == 200
    async with database.session() as session:
        sessions = (await session.scalars(select(AuthSession))).all()
        rows = (await session.scalars(select(RefreshToken))).all()
    assert [s.revoked_at for s in sessions] == [None]
    assert len(rows) == 3  # the original, the one winner's successor, and its successor


async def test_twenty_refreshes_overlapping_for_certain_on_postgresql(
    make_app: Any, database: Any, leg: Leg
) -> None:
    """All 20 wait on the token's row lock at once (PostgreSQL reports them), then race."""
    if not leg.is_services:
        pytest.skip("SQLite runs one transaction at a time: nothing can overlap")
    await create_user(database)
    async with make_app(DATABASE_POOL_SIZE="25") as app, client_for(app) as client:
        pair = await tokens(client)
        async with database.session() as session:
            token_hash = (await session.scalars(select(RefreshToken.token_hash))).one()
        racers = (refresh(client, pair["refresh_token"]) for _ in range(RACERS))
        lock = ("refresh_tokens", "token_hash", token_hash)
        waited, answers = await while_held(database, lock, *racers)
        assert len(waited) >= RACERS
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200] + [409] * (RACERS - 1), statuses
        winner = next(a for a in answers if a.status_code == 200).json()
        assert (await me(client, winner["access_token"])).status_code == 200
        assert (await refresh(client, winner["refresh_token"])).status_code == 200


async def test_a_replay_after_the_grace_period_still_revokes_the_family(
    client: httpx.AsyncClient, database: Any
) -> None:
    await create_user(database)
    pair = await tokens(client)
    results = await asyncio.gather(*(refresh(client, pair["refresh_token"]) for _ in range(RACERS)))
    winner = next(r for r in results if r.status_code == 200).json()
    await rotated_long_ago(database)
    replay = await refresh(client, pair["refresh_token"])
    assert replay.status_code == 401
    assert (await me(client, winner["access_token"])).status_code == 401
    assert (await refresh(client, winner["refresh_token"])).status_code == 401


async def test_a_grace_period_of_zero_is_the_strict_rotation(make_app: Any, database: Any) -> None:
    from tests.conftest import client_for

    await create_user(database)
    async with make_app(AUTH_REFRESH_GRACE_SECONDS="0") as app, client_for(app) as client:
        pair = await tokens(client)
        winner = (await refresh(client, pair["refresh_token"])).json()
        assert (await refresh(client, pair["refresh_token"])).status_code == 401
        assert (await me(client, winner["access_token"])).status_code == 401
