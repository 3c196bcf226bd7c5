"""How lists page: page shapes, the paging strategies and the opaque keyset cursor.

A controller holds one strategy (DRF's `pagination_class`), and everything that pages asks it:
the CRUD router for its query parameters and page schema, `BaseController.list` for the page.

    pagination = OffsetPagination(sort={"title": Todo.title, "due": Todo.due})
    pagination = CursorPagination()   # keyset pages in the repository's fixed key order

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
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from core.errors import BadRequest, InvalidInput, field_error
from core.filtering import MAX_SORT_KEYS, parse_sort
from core.openapi import answers

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.sql.base import ExecutableOption

    from core.repository import BaseRepository, CursorResult, OffsetResult

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
    """`limit`, `offset` and `sort` query parameters (`sort=None`: the strategy's default)."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: str | None = None


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


# -- paging strategies ------------------------------------------------------------------------

PageParams = OffsetParams | CursorParams
"""What a list is asked for: the query parameters of the controller's paging strategy."""
ParamsT = TypeVar("ParamsT", OffsetParams, CursorParams)


class Pagination(ABC):
    """How a controller's lists page. Subclass for another kind of page; the CRUD router asks
    the strategy for its query dependency and page schema, `BaseController.list` for the page.

    Args:
        max_limit: the largest page a client may ask for.
    """

    def __init__(self, *, max_limit: int = MAX_LIMIT) -> None:
        self.max_limit = max_limit
        self.default_limit = min(DEFAULT_LIMIT, max_limit)

    def check_limit(self, limit: int) -> None:
        """422 unless `1 <= limit <= max_limit` (for callers that bypass the router)."""
        if not 1 <= limit <= self.max_limit:
            raise InvalidInput(
                errors=[field_error(["query", "limit"], f"Must be between 1 and {self.max_limit}.")]
            )

    def _limit_query(self) -> Any:
        return Query(ge=1, le=self.max_limit, description="Rows per page.")

    @abstractmethod
    def default_params(self) -> PageParams:
        """The first page, as a client that sends no paging parameters gets it."""

    @abstractmethod
    def dependency(self, model: type[Any]) -> Callable[..., Awaitable[PageParams]]:
        """The list route's query parameters of `model`'s lists, as a FastAPI dependency."""

    @abstractmethod
    def page_model(self, item: type[BaseModel]) -> type[BaseModel]:
        """The response schema of a page of `item`s."""

    @abstractmethod
    async def page(
        self,
        repository: "BaseRepository[Any]",
        stmt: "Select[Any]",
        params: PageParams,
        *,
        options: "Iterable[ExecutableOption]" = (),
        rows: bool = False,
        binding: str = "",
    ) -> "OffsetResult[Any] | CursorResult[Any]":
        """Run one page of the visible, filtered `stmt` (see `BaseRepository.page_offset`).
        `binding` names the list (`cursor_binding`) for strategies whose pages carry cursors."""

    def _checked(self, params: PageParams, kind: type[ParamsT]) -> ParamsT:
        if not isinstance(params, kind):
            raise TypeError(f"{type(self).__name__} pages with {kind.__name__}, not {params!r}")
        self.check_limit(params.limit)
        return params


class OffsetPagination(Pagination):
    """Numbered pages with the total, in an allowlisted order: `?sort=-due,title`.

    Args:
        sort: public name → column a client may sort by, besides `created_at` (always allowed).
            `id` is always appended as the tie-breaker; an unknown name is a 422 naming the
            allowed ones.
        default_sort: the order when the client sends no `?sort=`, from the allowed names.
        max_limit: the largest page a client may ask for.
    """

    def __init__(
        self,
        *,
        sort: Mapping[str, Any] | None = None,
        default_sort: str = "-created_at",
        max_limit: int = MAX_LIMIT,
    ) -> None:
        super().__init__(max_limit=max_limit)
        self.sort = dict(sort or {})
        self.default_sort = default_sort

    def sort_fields(self, model: type[Any]) -> Mapping[str, Any]:
        """The allowlist for `model`'s lists: `created_at` and the names given."""
        return {"created_at": model.created_at, **self.sort}

    def default_params(self) -> OffsetParams:
        return OffsetParams(limit=self.default_limit)

    def dependency(self, model: type[Any]) -> Callable[..., Awaitable[OffsetParams]]:
        allowed = self.sort_fields(model)
        parse_sort(self.default_sort, allowed, self.default_sort)  # a bad default fails here
        names = ", ".join(sorted(allowed))
        sort_help = (
            f"Comma-separated fields (at most {MAX_SORT_KEYS}), `-` for descending. "
            f"Allowed: {names}."
        )
        limit_query, default_limit = self._limit_query(), self.default_limit
        default_sort = self.default_sort

        async def offset_page(
            limit: Annotated[int, limit_query] = default_limit,
            offset: Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip.")] = 0,
            sort: Annotated[str, Query(max_length=200, description=sort_help)] = default_sort,
        ) -> OffsetParams:
            return OffsetParams(limit=limit, offset=offset, sort=sort)

        return offset_page

    def page_model(self, item: type[BaseModel]) -> type[BaseModel]:
        return OffsetPage[item]  # type: ignore[valid-type]

    async def page(
        self,
        repository: "BaseRepository[Any]",
        stmt: "Select[Any]",
        params: PageParams,
        *,
        options: "Iterable[ExecutableOption]" = (),
        rows: bool = False,
        binding: str = "",
    ) -> "OffsetResult[Any]":
        offset = self._checked(params, OffsetParams)
        model = repository.model
        order = parse_sort(offset.sort, self.sort_fields(model), self.default_sort)
        return await repository.page_offset(
            stmt.order_by(*order, model.id),
            limit=offset.limit,
            offset=offset.offset,
            options=options,
            rows=rows,
        )


class CursorPagination(Pagination):
    """Keyset pages in the repository's fixed key order (`BaseRepository.keyset_key`), newest
    first unless `descending=False`: no total, and no cost growing with depth."""

    def __init__(self, *, descending: bool = True, max_limit: int = MAX_LIMIT) -> None:
        super().__init__(max_limit=max_limit)
        self.descending = descending

    def default_params(self) -> CursorParams:
        return CursorParams(limit=self.default_limit)

    def dependency(self, model: type[Any]) -> Callable[..., Awaitable[CursorParams]]:
        limit_query, default_limit = self._limit_query(), self.default_limit

        async def cursor_page(
            limit: Annotated[int, limit_query] = default_limit,
            cursor: Annotated[
                str | None,
                Query(
                    max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page."
                ),
            ] = None,
        ) -> CursorParams:
            return CursorParams(limit=limit, cursor=cursor)

        return cursor_page

    def page_model(self, item: type[BaseModel]) -> type[BaseModel]:
        return CursorPage[item]  # type: ignore[valid-type]

    async def page(
        self,
        repository: "BaseRepository[Any]",
        stmt: "Select[Any]",
        params: PageParams,
        *,
        options: "Iterable[ExecutableOption]" = (),
        rows: bool = False,
        binding: str = "",
    ) -> "CursorResult[Any]":
        cursor = self._checked(params, CursorParams)
        return await repository.page_keyset(
            stmt,
            limit=cursor.limit,
            cursor=cursor.cursor,
            descending=self.descending,
            options=options,
            rows=rows,
            binding=binding,
        )
