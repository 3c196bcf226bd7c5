"""Access tokens for users, and the authenticator core calls on every gated request."""

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from app.users.models import AuthSession, User
from app.users.tokens import token_service
from core.errors import Unauthorized
from core.security import Principal, TokenType, expand_scopes


def issue_access_token(
    user: User, scopes: Iterable[str], session_id: str | None = None
) -> tuple[str, int]:
    """A signed access token for `user` with `scopes`; returns it and its lifetime in seconds."""
    claims = {"scope": " ".join(sorted(scopes)), "ver": user.token_version}
    if session_id:
        claims["sid"] = session_id
    token, payload = token_service().issue(user.id, TokenType.ACCESS, claims)
    return token, payload["exp"] - payload["iat"]


async def authenticate(session: AsyncSession, token: str) -> Principal:
    """Verify the token, then the account: active, not deleted, token_version unchanged, and
    the token's session (`sid`) not logged out. At most two primary-key lookups.

    Scopes are what the token was granted, narrowed to what the account holds now, so a demotion
    takes effect on the next request.
    """
    claims = token_service().verify(token, TokenType.ACCESS)
    user = await session.get(User, uuid.UUID(claims["sub"]))
    if (
        user is None
        or user.deleted
        or not user.is_active
        or user.token_version != claims.get("ver")
    ):
        raise Unauthorized("The token is invalid or expired.")
    if "sid" in claims and not await _session_is_open(session, claims["sid"], user.id):
        raise Unauthorized("The token is invalid or expired.")
    granted = expand_scopes(str(claims.get("scope", "")).split()) & expand_scopes(user.scopes)
    return Principal(
        id=user.id,
        scopes=granted,
        token_id=claims["jti"],
        session_id=claims.get("sid"),
        account=user,
    )


async def _session_is_open(session: AsyncSession, sid: object, user_id: uuid.UUID) -> bool:
    try:
        session_id = uuid.UUID(str(sid))
    except ValueError:
        return False
    auth_session = await session.get(AuthSession, session_id)
    return (
        auth_session is not None
        and auth_session.revoked_at is None
        and auth_session.user_id == user_id
    )
