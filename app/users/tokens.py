"""The token service and password hasher of the app, built once from settings, and how random
secrets are stored."""

import hashlib
from datetime import timedelta
from functools import lru_cache

from configs import get_settings
from core.security import PasswordHasher, TokenConfig, TokenService, hashing_threads_per_worker


@lru_cache(maxsize=1)
def token_service() -> TokenService:
    settings = get_settings()
    return TokenService(
        TokenConfig(
            secret=settings.secret_key,
            algorithm=settings.auth.algorithm,
            issuer=settings.auth.issuer,
            audience=settings.auth.audience,
            access_ttl=timedelta(minutes=settings.auth.access_token_minutes),
            refresh_ttl=timedelta(days=settings.auth.refresh_token_days),
            claim_types={"scope": str, "ver": int, "sid": str},
        )
    )


@lru_cache(maxsize=1)
def password_hasher() -> PasswordHasher:
    workers = get_settings().app.workers
    return PasswordHasher(threads=hashing_threads_per_worker(workers))


def secret_hash(value: str) -> str:
    """What is stored for a random secret (a refresh token's `jti`, an emailed link's token, an
    API key, an SSO ticket): its SHA-256, never the secret itself. Secrets are random: a slow
    hash adds nothing."""
    return hashlib.sha256(value.encode()).hexdigest()


def refresh_token_hash(jti: str) -> str:
    """What is stored for a refresh token: the SHA-256 of its `jti`, never the token itself."""
    return secret_hash(jti)
