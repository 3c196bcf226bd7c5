"""Page shapes and the opaque keyset cursor.

Offset pages: `{items, total, limit, offset}`. Cursor pages: `{items, next_cursor, has_more}`.
A cursor carries the key values of the last row (e.g. `created_at`, `id`), signed so an edited
or foreign cursor is a 400, never a wrong page or a 500.
"""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from core.errors import BadRequest
from core.openapi import answers

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_SIGNATURE_BYTES = 12

ItemT = TypeVar("ItemT")


class OffsetPage(BaseModel, Generic[ItemT]):
    """A numbered page with the total row count."""

    model_config = ConfigDict(from_attributes=True)

    items: list[ItemT]
    total: int
    limit: int
    offset: int


class CursorPage(BaseModel, Generic[ItemT]):
    """A page of a keyset walk; pass `next_cursor` back as `cursor` for the next one."""

    model_config = ConfigDict(from_attributes=True)

    items: list[ItemT]
    next_cursor: str | None
    has_more: bool


class OffsetParams(BaseModel):
    """`limit` and `offset` query parameters."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


async def offset_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page.")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip.")] = 0,
) -> OffsetParams:
    """Dependency: validated offset paging parameters (over the limit is a 422)."""
    return OffsetParams(limit=limit, offset=offset)


class CursorParams(BaseModel):
    """`limit` and `cursor` query parameters."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@answers(400)  # a cursor that is not one of ours
async def cursor_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
    ] = None,
) -> CursorParams:
    """Dependency: validated cursor paging parameters."""
    return CursorParams(limit=limit, cursor=cursor)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _from_json(value: Any, python_type: type) -> Any:
    if python_type is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("cursor time has no zone")
        return parsed
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if not isinstance(value, python_type):
        raise ValueError("cursor value of the wrong type")
    return value


class CursorCodec:
    """Encodes and verifies cursors with an HMAC under the app's secret."""

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        self._key = hashlib.sha256(b"plinth-cursor:" + key).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, values: Sequence[Any]) -> str:
        """An opaque cursor for these key values."""
        payload = json.dumps([_to_json(v) for v in values], separators=(",", ":")).encode()
        return _b64encode(self._sign(payload) + payload)

    def decode(self, cursor: str, types: Sequence[type]) -> tuple[Any, ...]:
        """The key values of a cursor, typed; raises `BadRequest` if it was not made here."""
        try:
            raw = _b64decode(cursor)
            signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
            if not hmac.compare_digest(signature, self._sign(payload)):
                raise ValueError("bad signature")
            values = json.loads(payload)
            if not isinstance(values, list) or len(values) != len(types):
                raise ValueError("wrong arity")
            return tuple(_from_json(v, t) for v, t in zip(values, types, strict=True))
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise BadRequest("The cursor is invalid or expired; start again without it.") from exc
