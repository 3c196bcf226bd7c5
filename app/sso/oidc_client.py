"""The OpenID Connect relying party, through Authlib: discovery, the authorization URL (code
flow with PKCE S256, `state`, `nonce`), the code exchange, and ID-token validation.

The ID token is checked against the provider's JWKS (fetched again once when a token names a
key id it does not hold: key rotation), and its `iss` (the configured issuer, which discovery
must repeat), `aud` (our client id), `exp`/`iat` and `nonce` (the one sent with this flow).

Imported only once a provider is configured and used (`app.sso.oidc.oidc_clients`): Authlib,
joserfc and httpx2 cost a worker ~14 MB of memory.
"""

from typing import Any

import httpx2
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from app.sso.oidc import AuthorizationRequest, OidcError
from configs.sso import OidcProvider, SsoSettings

SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
CLOCK_LEEWAY_SECONDS = 60


class OidcClient:
    """One configured provider, seen from our side (an Authlib client underneath)."""

    def __init__(self, provider: OidcProvider, registry: OAuth) -> None:
        self.provider = provider
        self._client: Any = registry.create_client(provider.name)

    async def authorization_request(
        self, redirect_uri: str, login_hint: str | None
    ) -> AuthorizationRequest:
        """A fresh state, nonce and PKCE verifier, and the provider URL carrying them."""
        extra = {"login_hint": login_hint} if login_hint else {}
        try:
            await self._metadata()
            made = await self._client.create_authorization_url(redirect_uri, **extra)
        except (httpx2.HTTPError, OAuthError, ValueError) as exc:
            raise OidcError("provider_unavailable", "The provider cannot be reached.") from exc
        return AuthorizationRequest(
            made["url"], made["state"], made["nonce"], made["code_verifier"]
        )

    async def exchange(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> dict[str, Any]:
        """Trade the code for tokens and return the validated ID token's claims."""
        try:
            token = await self._client.fetch_access_token(
                redirect_uri=redirect_uri, code=code, code_verifier=code_verifier
            )
        except (httpx2.HTTPError, OAuthError, ValueError) as exc:
            raise OidcError(
                "code_rejected", "The provider did not accept the sign-in code."
            ) from exc
        if "id_token" not in token:
            raise OidcError("invalid_id_token", "The provider sent no ID token.")
        return await self.validate_id_token(token, nonce)

    async def validate_id_token(self, token: dict[str, Any], nonce: str) -> dict[str, Any]:
        """The ID token's claims once signature, issuer, audience, times and nonce hold."""
        try:
            decoded = await self._decode(token["id_token"])
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "values": [self.provider.issuer]},
                    "aud": {"essential": True, "values": [self.provider.client_id]},
                },
                {"nonce": nonce, "client_id": self.provider.client_id},
            )
            claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
        except (JoseError, httpx2.HTTPError, ValueError) as exc:
            raise OidcError("invalid_id_token", "The provider's ID token is not valid.") from exc
        return dict(claims)

    async def _decode(self, id_token: str) -> Any:
        metadata = await self._metadata()
        allowed = list(metadata.get("id_token_signing_alg_values_supported", ["RS256"]))
        registry = JWSRegistry(algorithms=[a for a in allowed if a in SIGNING_ALGORITHMS])
        try:
            keys = KeySet.import_key_set(await self._client.fetch_jwk_set())
            return jwt.decode(id_token, keys, registry=registry)
        except InvalidKeyIdError:  # a key we have not seen: the provider may have rotated
            keys = KeySet.import_key_set(await self._client.fetch_jwk_set(force=True))
            return jwt.decode(id_token, keys, registry=registry)

    async def _metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = await self._client.load_server_metadata()
        if metadata.get("issuer") != self.provider.issuer:
            raise OidcError("provider_unavailable", "The provider's discovery is inconsistent.")
        return metadata


def build_clients(sso: SsoSettings) -> dict[str, OidcClient]:
    """A client for every provider in `sso`, sharing one Authlib registry."""
    registry = OAuth()
    for provider in sso.providers:
        registry.register(
            provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret.get_secret_value(),
            server_metadata_url=f"{provider.issuer.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs={
                "scope": " ".join(provider.scopes),
                "code_challenge_method": "S256",
                "timeout": sso.http_timeout_seconds,
            },
        )
    return {provider.name: OidcClient(provider, registry) for provider in sso.providers}
