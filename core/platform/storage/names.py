"""File names from clients, made safe to keep and to send back."""

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_LENGTH = 200
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def safe_filename(name: str) -> str:
    """`name` without any directory, control character or character that breaks a header or
    a file system, at most MAX_NAME_LENGTH characters; `file` when nothing is left."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        keep = MAX_NAME_LENGTH - len(dot + ext) if dot and len(ext) <= 16 else MAX_NAME_LENGTH
        name = (stem[:keep] + dot + ext) if dot and len(ext) <= 16 else name[:keep]
    return name or "file"


def content_disposition(name: str) -> str:
    """`attachment` with `name` as an ASCII fallback and in full (RFC 6266, RFC 5987): the
    browser saves the file and never renders it on the app's origin."""
    name = safe_filename(name)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
