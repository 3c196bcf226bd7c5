"""What an event-stream ticket stands for, and the batch check that ends sockets whose login
ended: the same rules as `authenticate` (account active, not deleted, token version unchanged,
session not logged out, scopes not reduced), for every socket of a process in two queries."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from app.users.repository import AuthSessionRepository, UserRepository
from core.db import Database
from core.platform.realtime import Grant, Revalidator
from core.security import Principal, expand_scopes


def grant_for(principal: Principal, claims: Mapping[str, Any]) -> Grant:
    """The grant of a ticket asked for by `principal` (with the app's extra `claims`)."""
    base = {"ver": principal.account.token_version, "scopes": sorted(principal.scopes)}
    return Grant(principal.id, principal.session_id, {**claims, **base})


def principal_of(grant: Grant) -> Principal:
    """The caller a socket acts as (for its typing and read frames)."""
    scopes = frozenset(str(s) for s in grant.claims.get("scopes", ()))
    return Principal(id=grant.user_id, scopes=scopes, session_id=grant.session_id)


def _session_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def revalidator(database: Database) -> Revalidator:
    """The app's `Revalidator` over `database`."""

    async def revalidate(grants: Sequence[Grant]) -> list[bool]:
        user_ids = {g.user_id for g in grants}
        session_ids = {s for g in grants if (s := _session_uuid(g.session_id)) is not None}
        async with database.session() as session:
            users = await UserRepository(session).token_states(user_ids)
            open_sessions = await AuthSessionRepository(session).open_ids(session_ids)
        return [_holds(g, users.get(g.user_id), open_sessions) for g in grants]

    return revalidate


def _holds(grant: Grant, user: Any, open_sessions: set[uuid.UUID]) -> bool:
    if user is None or user.token_version != grant.claims.get("ver", user.token_version):
        return False
    if not set(grant.claims.get("scopes", ())) <= expand_scopes(user.scopes):
        return False
    if grant.session_id is None:
        return True
    return _session_uuid(grant.session_id) in open_sessions
