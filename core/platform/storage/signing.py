"""Signed, expiring tokens for the local backend's URLs (HMAC-SHA256 over JSON claims)."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from core.errors import Forbidden


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UrlSigner:
    """Signs claims for one purpose with a key derived from the app's secret."""

    def __init__(self, secret: str, purpose: str = "plinth.storage") -> None:
        self._key = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()

    def sign(self, claims: dict[str, Any], expires_at: float) -> str:
        """A token carrying `claims` until `expires_at` (a UNIX time)."""
        body = _b64(json.dumps({**claims, "exp": int(expires_at)}, separators=(",", ":")).encode())
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return f"{body}.{_b64(mac)}"

    def verify(self, token: str, op: str) -> dict[str, Any]:
        """The claims of a valid, unexpired token for `op`; 403 otherwise (as S3 answers an
        expired or tampered presigned request)."""
        body, _, mac = token.partition(".")
        try:
            expected = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(mac)):
                raise ValueError("bad signature")
            claims: dict[str, Any] = json.loads(_unb64(body))
        except ValueError:
            raise Forbidden("The signed URL is invalid.") from None
        if claims.get("op") != op:
            raise Forbidden("The signed URL is invalid.")
        if claims.get("exp", 0) < time.time():
            raise Forbidden("The signed URL has expired.")
        return claims
