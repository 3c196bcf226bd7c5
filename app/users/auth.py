"""Access tokens for users, and the authenticator core calls on every gated request."""

import uuid
from collections.abc import Iterable

from sqlalchemy import and_, bindparam, select

from app.users.api_keys import authenticate_api_key, is_api_key
from app.users.models import AuthSession, User
from app.users.tokens import token_service
from core.db import Database
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


def _parse_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# One round trip per request: the account's columns by primary key, with the token's session
# joined on its primary key. Built once; each request only binds the two ids. Core, not ORM:
# the account is a read-only snapshot (`Principal.account`); code that changes the user loads
# the entity in its own unit of work (`UserController.caller_account`).
_ACCOUNT_AND_SESSION = (
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


async def authenticate(database: Database, token: str) -> Principal:
    """Verify the token, then the account — active, not deleted, token_version unchanged — and
    the token's session (`sid`) not logged out, in one indexed query outside the request's
    transaction. An API key (`plk_…`) is checked instead by its hash, with its owner.

    Scopes are what the token was granted, narrowed to what the account holds now, so a demotion
    takes effect on the next request.
    """
    if is_api_key(token):
        return await authenticate_api_key(database, token)
    claims = token_service().verify(token, TokenType.ACCESS)
    has_sid = "sid" in claims
    sid = _parse_uuid(claims["sid"]) if has_sid else None
    if has_sid and sid is None:
        raise Unauthorized("The token is invalid or expired.")
    account = await database.fetch_one(
        _ACCOUNT_AND_SESSION, {"uid": uuid.UUID(claims["sub"]), "sid": sid}
    )
    if (
        account is None
        or account.deleted_at is not None
        or not account.is_active
        or account.token_version != claims.get("ver")
        or (has_sid and (account.session_found is None or account.session_revoked_at is not None))
    ):
        raise Unauthorized("The token is invalid or expired.")
    granted = expand_scopes(str(claims.get("scope", "")).split()) & expand_scopes(account.scopes)
    return Principal(
        id=account.id,
        scopes=granted,
        token_id=claims["jti"],
        session_id=claims.get("sid"),
        account=account,
    )
