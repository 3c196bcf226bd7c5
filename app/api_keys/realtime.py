"""The event stream's check of sockets opened with an API key: revoking the key, or its expiry,
closes them within one sweep (REALTIME_REVALIDATE_SECONDS), as logging out does for sessions.
The account's side (deactivation, token version, scopes) is `app.users.realtime`'s."""

import uuid
from collections.abc import Sequence

from app.api_keys.repository import ApiKeyRepository
from app.users.realtime import KEY_CLAIM
from core.db import Database, utcnow
from core.platform.realtime import Grant, Revalidator


def _key_id(grant: Grant) -> uuid.UUID | None:
    value = grant.claims.get(KEY_CLAIM)
    return uuid.UUID(str(value)) if value else None


def key_revalidator(database: Database) -> Revalidator:
    """A `Revalidator` over `database`: a grant without a key holds; one with a key holds
    while the key is live. One query per sweep, none when no socket uses a key."""

    async def revalidate(grants: Sequence[Grant]) -> list[bool]:
        key_ids = [_key_id(grant) for grant in grants]
        wanted = {key for key in key_ids if key is not None}
        if not wanted:
            return [True] * len(grants)
        async with database.session() as session:
            live = await ApiKeyRepository(session).live_ids(wanted, utcnow())
        return [key is None or key in live for key in key_ids]

    return revalidate
