"""Access tokens for users: issuing them, and checking one on a gated request."""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from app.users.models import User
from app.users.repository import ACCOUNT_AND_SESSION
from app.users.tokens import token_service
from core.db import Database
from core.errors import Unauthorized
from core.security import Principal, TokenType, expand_scopes

INVALID_TOKEN = "The token is invalid or expired."  # noqa: S105 - a message, not a secret


def issue_access_token(
    user: User, scopes: Iterable[str], session_id: str | None = None
) -> tuple[str, int]:
    """A signed access token for `user` with `scopes`; returns it and its lifetime in seconds."""
    claims = {"scope": " ".join(sorted(scopes)), "ver": user.token_version}
    if session_id:
        claims["sid"] = session_id
    token, payload = token_service().issue(user.id, TokenType.ACCESS, claims)
    return token, payload["exp"] - payload["iat"]


def _parse_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def authenticate_access_token(database: Database, token: str) -> Principal:
    """Verify the token, then the account — active, not deleted, token_version unchanged — and
    the token's session (`sid`) not logged out, in one indexed query outside the request's
    transaction.

    Scopes are what the token was granted, narrowed to what the account holds now, so a demotion
    takes effect on the next request.
    """
    return await principal_for_claims(database, token_service().verify(token, TokenType.ACCESS))


async def principal_for_claims(database: Database, claims: Mapping[str, Any]) -> Principal:
    """The caller verified access-token `claims` (`sub`, `ver`, `scope`, `sid`) stand for, by
    the checks `authenticate_access_token` describes: also what keeps an admin console sign-in
    (routers/console) alive, request after request."""
    has_sid = "sid" in claims
    sid = _parse_uuid(claims["sid"]) if has_sid else None
    if has_sid and sid is None:
        raise Unauthorized(INVALID_TOKEN)
    account = await database.fetch_one(
        ACCOUNT_AND_SESSION, {"uid": uuid.UUID(claims["sub"]), "sid": sid}
    )
    if (
        account is None
        or account.deleted_at is not None
        or not account.is_active
        or account.token_version != claims.get("ver")
        or (has_sid and (account.session_found is None or account.session_revoked_at is not None))
    ):
        raise Unauthorized(INVALID_TOKEN)
    granted = expand_scopes(str(claims.get("scope", "")).split()) & expand_scopes(account.scopes)
    return Principal(
        id=account.id,
        scopes=granted,
        token_id=claims.get("jti"),
        session_id=claims.get("sid"),
        account=account,
    )
