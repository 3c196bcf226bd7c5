"""Signing in to the admin console (routers/console): the API's own password and second-factor
flow, opening an ordinary session, for accounts holding `admin` only."""

from typing import Any

from app.two_factor.schemas import MfaChallenge
from app.users.models import User
from app.users.schemas import TokenResponse
from app.users.service import AuthService
from app.users.tokens import token_service
from core.errors import Forbidden
from core.security import Scope, TokenType, expand_scopes

NOT_AN_ADMIN = "Only admins and superusers may sign in to the console."
CONSOLE_CLAIMS = ("sub", "sid", "ver", "scope", "jti")
"""What the console's cookie keeps of the session's access token: enough for
`app.users.authentication.principal_for_claims` to check it again on every request."""


class ConsoleAuthService(AuthService):
    """`AuthService.login` and `finish_sign_in`, refusing an account without `admin` before a
    session opens, and a session the second-factor policy (AUTH_TOTP_REQUIRED_SCOPES) left
    without it (the unit of work then rolls that session back)."""

    async def sign_in(
        self, user: User, scopes: frozenset[str], *, second_factor: bool | None = None
    ) -> TokenResponse | MfaChallenge:
        if Scope.ADMIN not in scopes:
            raise Forbidden(NOT_AN_ADMIN)
        return await super().sign_in(user, scopes, second_factor=second_factor)

    async def console_login(self, email: str, password: str) -> dict[str, Any] | MfaChallenge:
        """The password step: the console session's claims, or the second step's challenge."""
        outcome = await self.login(email, password, [])
        return outcome if isinstance(outcome, MfaChallenge) else admin_claims(outcome)

    async def console_second_step(self, mfa_token: str, code: str) -> dict[str, Any]:
        """The code step: the console session's claims."""
        return admin_claims(await self.finish_sign_in(mfa_token, code))


def admin_claims(tokens: TokenResponse) -> dict[str, Any]:
    """The claims of a new session's access token; 403 unless they carry `admin`."""
    claims = token_service().verify(tokens.access_token, TokenType.ACCESS)
    if Scope.ADMIN not in expand_scopes(str(claims.get("scope", "")).split()):
        raise Forbidden(NOT_AN_ADMIN)
    return {name: claims[name] for name in CONSOLE_CLAIMS}
