"""What an event-stream ticket stands for, and the batch check that ends sockets whose login
ended: the same rules as `authenticate` (account active, not deleted, token version unchanged,
session not logged out, scopes not reduced), for every socket of a process in two queries. A
ticket asked for with an API key names the key (`KEY_CLAIM`): the key's own check is
`app.api_keys.realtime`."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from app.users.repository import AuthSessionRepository, UserRepository
from core.db import Database
from core.platform.realtime import Grant, Revalidator
from core.security import Principal, expand_scopes

KEY_CLAIM = "key"
"""The grant's claim naming the API key its ticket was asked for with (absent for sessions)."""


def grant_for(principal: Principal, claims: Mapping[str, Any]) -> Grant:
    """The grant of a ticket asked for by `principal` (with the app's extra `claims`)."""
    base = {"ver": principal.account.token_version, "scopes": sorted(principal.scopes)}
    if principal.api_key_id is not None:
        base[KEY_CLAIM] = str(principal.api_key_id)
    return Grant(principal.id, principal.session_id, {**claims, **base})


def principal_of(grant: Grant) -> Principal:
    """The caller a socket acts as (for its typing and read frames)."""
    scopes = frozenset(str(s) for s in grant.claims.get("scopes", ()))
    key = _uuid(grant.claims.get(KEY_CLAIM))
    return Principal(id=grant.user_id, scopes=scopes, session_id=grant.session_id, api_key_id=key)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def revalidator(database: Database) -> Revalidator:
    """The app's `Revalidator` over `database`."""

    async def revalidate(grants: Sequence[Grant]) -> list[bool]:
        user_ids = {g.user_id for g in grants}
        session_ids = {s for g in grants if (s := _uuid(g.session_id)) is not None}
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
    return _uuid(grant.session_id) in open_sessions
