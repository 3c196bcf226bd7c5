"""What a key looks like: a prefix, a random body, a checksum of the body; and what is stored."""

import re
import secrets
import string
import zlib

from app.users.tokens import secret_hash

KEY_PREFIX = "plk_"
_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BODY_LENGTH = 40
_CHECKSUM_LENGTH = 6
_KEY_SHAPE = re.compile(rf"^{KEY_PREFIX}[0-9A-Za-z]{{{_BODY_LENGTH + _CHECKSUM_LENGTH}}}$")
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 8


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def generate_key() -> str:
    """A new key: prefix, random body, checksum of the body."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY_LENGTH))
    return f"{KEY_PREFIX}{body}{_base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)}"


def is_api_key(credential: str) -> bool:
    """Whether a bearer credential is meant as an API key (it has our prefix)."""
    return credential.startswith(KEY_PREFIX)


def well_formed(key: str) -> bool:
    """The key's shape and checksum hold (no database needed)."""
    if not _KEY_SHAPE.match(key):
        return False
    body = key[len(KEY_PREFIX) : len(KEY_PREFIX) + _BODY_LENGTH]
    return key[-_CHECKSUM_LENGTH:] == _base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)


def key_hash(key: str) -> str:
    """What is stored: the SHA-256 of the key."""
    return secret_hash(key)
