"""What the SSO flow needs to know of OpenID Connect without loading a client: the error a
provider call ends in, the authorization request, and the process's clients.

The clients themselves (`app/sso/oidc_client.py`, Authlib underneath) are imported the first
time a configured provider is asked for: with SSO_PROVIDERS empty (the default) a worker never
loads Authlib, joserfc or httpx2 (~14 MB of its memory).
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from configs import get_settings

if TYPE_CHECKING:
    from app.sso.oidc_client import OidcClient


class OidcError(Exception):
    """The provider refused, or what it sent does not hold up; `code` is the public reason."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what the callback must check it against."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@lru_cache(maxsize=1)
def oidc_clients() -> dict[str, "OidcClient"]:
    """Every configured provider's client, built once per process (discovery and JWKS are
    cached inside; tests clear this with the settings). None configured: no client library."""
    sso = get_settings().sso
    if not sso.providers:
        return {}
    from app.sso.oidc_client import build_clients

    return build_clients(sso)
