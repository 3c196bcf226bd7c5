"""What the stored bytes are, from their first bytes: the content-type allowlist is checked
against this, never against the client's claim or the file's name alone."""

SNIFF_BYTES = 4096
"""How much of an object's beginning is read to recognise it."""

_SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    "image/png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "image/jpeg": ((0, b"\xff\xd8\xff"),),
    "image/gif": ((0, b"GIF87a"), (0, b"GIF89a")),
    "image/webp": ((8, b"WEBP"),),  # after b"RIFF" and the length, checked below
    "application/pdf": ((0, b"%PDF-"),),
    "application/zip": ((0, b"PK\x03\x04"), (0, b"PK\x05\x06")),
}
TEXT_TYPES = frozenset({"text/plain", "text/csv", "text/markdown", "application/json"})
"""Types recognised as text: UTF-8 without NUL or other control characters than whitespace."""
RECOGNISED_TYPES = frozenset(_SIGNATURES) | TEXT_TYPES
"""Every type the allowlist (STORAGE_ALLOWED_TYPES) may hold."""


def _is_text(head: bytes, complete: bool) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a partial read is still text.
        if complete or exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text)


def _has_signature(content_type: str, head: bytes) -> bool:
    signatures = _SIGNATURES[content_type]
    if content_type == "image/webp" and not head.startswith(b"RIFF"):
        return False
    return any(head[offset : offset + len(magic)] == magic for offset, magic in signatures)


def looks_like(content_type: str, head: bytes, *, complete: bool = False) -> bool:
    """Whether `head`, the first bytes of an object (all of it when `complete`), is of
    `content_type`. A type Plinth cannot recognise never matches."""
    if content_type in TEXT_TYPES:
        return _is_text(head, complete) and not any(
            _has_signature(binary, head) for binary in _SIGNATURES
        )
    if content_type in _SIGNATURES:
        return _has_signature(content_type, head)
    return False
