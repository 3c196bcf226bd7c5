"""TOTP secrets (kept encrypted at rest), the codes checked against them, and recovery codes.

Secrets are sealed with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived with HKDF from
AUTH_TOTP_ENCRYPTION_KEY, else AUTH_SECRET_KEY. Recovery codes carry 79 random bits, so their
SHA-256 is enough (a slow hash adds nothing for random secrets, as for API keys).
"""

import base64
import logging
import re
import secrets
import time

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pyotp.exceptions import OTPVerificationError

from app.users.tokens import secret_hash
from configs import get_settings

logger = logging.getLogger("plinth.two_factor")

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
RECOVERY_GROUPS = 4  # of 4 characters: 16 characters, 79 bits
VALID_WINDOW = 1  # the previous and next 30 s step count too: clocks drift, people type slowly
TOTP_CODE = re.compile(r"\d{6}")


def _cipher() -> Fernet:
    auth = get_settings().auth
    key = auth.totp_encryption_key or auth.secret_key
    assert key is not None
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"plinth totp secrets"
    ).derive(key.get_secret_value().encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def new_secret() -> str:
    """A new base32 TOTP secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32()


def seal(secret: str) -> str:
    """What is stored for a TOTP secret: its encryption."""
    return _cipher().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The secret, or None when it cannot be decrypted (the key changed): logged, and the
    account can still use its recovery codes."""
    try:
        return _cipher().decrypt(sealed.encode()).decode()
    except InvalidToken:
        logger.error("a TOTP secret cannot be decrypted: was AUTH_SECRET_KEY rotated?")
        return None


def provisioning_uri(secret: str, account: str) -> str:
    """The `otpauth://totp/...` URI an authenticator app reads (as a QR code, or pasted)."""
    issuer = get_settings().app.name
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str) -> int | None:
    """The time step `code` belongs to (now, or one step either side), else None."""
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(
            code, for_time=time.time(), valid_window=VALID_WINDOW
        )
    except OTPVerificationError:
        return None


def is_totp_code(code: str) -> bool:
    """Six digits (spaces already removed): a TOTP code, not a recovery code."""
    return TOTP_CODE.fullmatch(code) is not None


def new_recovery_codes() -> list[str]:
    """`RECOVERY_CODES` fresh codes, `xxxx-xxxx-xxxx-xxxx`."""
    return ["-".join(_group() for _ in range(RECOVERY_GROUPS)) for _ in range(RECOVERY_CODES)]


def _group() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4))


def normalise_code(code: str) -> str:
    """A code as typed, without spaces and dashes, lower-case."""
    return re.sub(r"[\s-]", "", code).lower()


def recovery_code_hash(code: str) -> str:
    """What is stored for a recovery code: the SHA-256 of its normalised form."""
    return secret_hash(normalise_code(code))
