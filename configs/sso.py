"""SSO_* variables: the OpenID Connect providers users may sign in with, and the browser flow.

SSO_PROVIDERS='[{"name": "google", "issuer": "https://accounts.google.com",
                 "client_id": "...", "client_secret": "...", "display_name": "Google"}]'
SSO_PUBLIC_URL=https://api.example.com     # callback: {this}/api/v1/auth/sso/{name}/callback
SSO_REDIRECT_ALLOWLIST=https://app.example.com/sso/done,https://admin.example.com/sso
"""

from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from configs.base import PlinthSettings

PROVIDER_NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class OidcProvider(BaseModel, frozen=True):
    """One OpenID Connect provider: its issuer (discovery at /.well-known/openid-configuration),
    our client registration there, the scopes asked for and the name shown to users."""

    name: str = Field(pattern=PROVIDER_NAME)
    issuer: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    scopes: list[str] = ["openid", "email", "profile"]
    display_name: str = ""
    link_by_email: bool = False
    """Sign in to an existing account whose verified address is the one this provider says is
    verified. Only for a provider whose email claim you trust (your own IdP, say); never for
    admin or superuser accounts. Off: such a user signs in as before and links the provider
    from their settings."""


class SsoSettings(PlinthSettings):
    """SSO_* variables. No providers (the default) turns SSO off: its routes answer 404."""

    model_config = SettingsConfigDict(env_prefix="SSO_")

    providers: list[OidcProvider] = []
    public_url: str | None = None
    redirect_allowlist: Annotated[list[str], NoDecode] = []
    state_ttl_seconds: int = Field(default=600, gt=0)
    code_ttl_seconds: int = Field(default=60, gt=0)
    http_timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("redirect_allowlist", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        """Accept `https://a/x,https://b/y` as well as a JSON list."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    def provider(self, name: str) -> OidcProvider | None:
        """The provider called `name`, if configured."""
        return next((p for p in self.providers if p.name == name), None)
