"""AUTH_* variables: token signing, lifetimes, the root token, the first superuser and the
second factor (TOTP)."""

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

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
    allow_unverified_login: bool | None = None
    """Unverified accounts may log in; unset: yes, except in production."""
    max_api_keys_per_user: int = Field(default=20, gt=0)
    """Live (usable) API keys one user may hold; creating one more is a 409."""
    max_sessions_per_user: int = Field(default=10, gt=0)
    """Live sign-in sessions per user; a sign-in beyond it ends the user's oldest sessions."""
    # Second factor (app/two_factor, docs/auth.md "Second factor"). Tokens carrying any of these
    # scopes are only issued to accounts with TOTP enabled (comma-separated: admin,superuser).
    totp_required_scopes: Annotated[list[Literal["admin", "superuser"]], NoDecode] = []
    # How long the challenge of a sign-in's second step (`mfa_token`) can be answered.
    totp_challenge_seconds: int = Field(default=300, ge=30, le=900)
    # Encrypts the stored TOTP secrets; unset: derived from AUTH_SECRET_KEY. Set it before
    # rotating AUTH_SECRET_KEY, else every enrolled authenticator stops working.
    totp_encryption_key: SecretStr | None = None

    @field_validator("totp_required_scopes", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        """Accept `admin,superuser` as well as a JSON list."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value
