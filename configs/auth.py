"""AUTH_* variables: token signing, lifetimes, the root token and the first superuser."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings

PLACEHOLDER_SECRET = "change-me"  # noqa: S105 - the value production refuses


class AuthSettings(PlinthSettings):
    """AUTH_* variables. An unset secret is generated per install outside production."""

    model_config = SettingsConfigDict(env_prefix="AUTH_")

    secret_key: SecretStr | None = None
    algorithm: str = "HS256"
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    # A refresh token presented again this soon after its rotation, by its own session, is a
    # racing client (two tabs, a retry), not theft: refused with 409, the session lives on.
    refresh_grace_seconds: float = Field(default=10.0, ge=0)
    issuer: str = "plinth"
    audience: str = "plinth-api"
    root_token: SecretStr | None = None
    first_superuser_email: str | None = None
    first_superuser_password: SecretStr | None = None
    password_min_length: int = 8
    password_max_length: int = 128
    allow_unverified_login: bool = True
    max_api_keys_per_user: int = Field(default=20, gt=0)
    """Live (usable) API keys one user may hold; creating one more is a 409."""
    max_sessions_per_user: int = Field(default=10, gt=0)
    """Live sign-in sessions per user; a sign-in beyond it ends the user's oldest sessions."""
