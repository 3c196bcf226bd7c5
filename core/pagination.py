"""Page shapes and the opaque keyset cursor.

Offset pages: `{items, total, limit, offset}`. Cursor pages: `{items, next_cursor, has_more}`.
A cursor carries the key values of the last row (e.g. `created_at`, `id`) and is bound to the list
it came from (`cursor_binding`: the list, its parent, its filters; the key and the direction):
signed, so an edited cursor, or one used on another list or with other filters, is a 400 — never
a wrong page or a 500.
"""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from core.errors import BadRequest
from core.openapi import answers

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 512
CURSOR_VERSION = 1
_SIGNATURE_BYTES = 12
_BINDING_BYTES = 8
_HEADER_BYTES = 1 + _BINDING_BYTES  # the version, then the binding's digest

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
        str | None,
        Query(max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page."),
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


def cursor_binding(
    list_name: str,
    *,
    parent_id: object = None,
    filters: BaseModel | Mapping[str, Any] | None = None,
) -> str:
    """What a list's cursors belong to, for `CursorCodec` and `BaseRepository.page_keyset`:
    the list (`list_name`: a controller, a route), the parent whose children it lists, and a
    digest of the filters in effect. A cursor made under one binding is a 400 under another."""
    if isinstance(filters, BaseModel):
        filters = filters.model_dump(mode="json")
    canonical = json.dumps(filters, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return json.dumps([list_name, None if parent_id is None else str(parent_id), digest])


class CursorCodec:
    """Encodes and verifies cursors with an HMAC under the app's secret.

    A cursor is `version | binding digest | signature | key values (JSON)`, base64url: the
    signature covers the rest, so neither the values nor the binding can be edited."""

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        self._key = hashlib.sha256(b"plinth-cursor:" + key).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def _header(self, binding: str) -> bytes:
        digest = hmac.new(self._key, b"binding:" + binding.encode(), hashlib.sha256).digest()
        return bytes([CURSOR_VERSION]) + digest[:_BINDING_BYTES]

    def encode(self, values: Sequence[Any], *, binding: str = "") -> str:
        """An opaque cursor for these key values, valid only under `binding`
        (see `cursor_binding`); at most `MAX_CURSOR_LENGTH` characters."""
        payload = json.dumps([_to_json(v) for v in values], separators=(",", ":")).encode()
        header = self._header(binding)
        cursor = _b64encode(header + self._sign(header + payload) + payload)
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError(f"a cursor of {len(cursor)} characters: the key values are too long")
        return cursor

    def decode(self, cursor: str, types: Sequence[type], *, binding: str = "") -> tuple[Any, ...]:
        """The key values of a cursor, typed; raises `BadRequest` if it was not made here or
        was made under another `binding` (another list, parent or filters)."""
        header, values = self._verified(cursor)
        if header != self._header(binding):
            raise BadRequest(
                "The cursor belongs to another list or was used with other filters: send the "
                "filters of the page it came from, or start again without it."
            )
        try:
            if not isinstance(values, list) or len(values) != len(types):
                raise ValueError("wrong arity")
            return tuple(_from_json(v, t) for v, t in zip(values, types, strict=True))
        except (ValueError, TypeError) as exc:
            raise _invalid() from exc

    def _verified(self, cursor: str) -> tuple[bytes, Any]:
        """The header and the parsed values of a cursor this codec signed, else `BadRequest`."""
        try:
            raw = _b64decode(cursor)
            header, rest = raw[:_HEADER_BYTES], raw[_HEADER_BYTES:]
            signature, payload = rest[:_SIGNATURE_BYTES], rest[_SIGNATURE_BYTES:]
            if len(header) < _HEADER_BYTES or header[0] != CURSOR_VERSION:
                raise ValueError("not a cursor of this version")
            if not hmac.compare_digest(signature, self._sign(header + payload)):
                raise ValueError("bad signature")
            return header, json.loads(payload)
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise _invalid() from exc


def _invalid() -> BadRequest:
    return BadRequest("The cursor is invalid or expired; start again without it.")
