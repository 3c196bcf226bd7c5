"""Response caching for GET routes, per caller, invalidated by namespace.

    @router.get("/{user_id}", response_model=UserRead)
    @cache(expire=60, namespace="users")
    async def read_user(user_id: UUID, users: Users) -> User: ...

    # after any successful write to users (the commit is done):
    await invalidate(request, "users")

An entry is keyed by the route template, the path, the sorted query parameters and the caller
(principal id, or anonymous), so one user's response is never served to another. Every key also
carries its namespace's version; `invalidate` bumps the version (INCR in Redis, seen by every
worker at once), so the next read after a successful write misses. A reader stores what it
computed under the version it read *before* reading the database, so a racing write cannot leave
a stale entry behind.

Responses carry an ETag (hash of the body) and `Cache-Control: private, no-cache`; a matching
If-None-Match gets 304. Redis errors fail open: the route is served uncached (logged, counted).

A hit is answered before the route's own dependencies are solved — after its gate and rate
limit, before its controller, session and parsed query — so it costs the lookup and little else.
"""

import contextlib
import functools
import hashlib
import inspect
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, ParamSpec, Protocol, TypeVar

from fastapi import Depends, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, serialize_response
from prometheus_client import Counter
from starlette.requests import HTTPConnection

from configs.cache import CacheSettings
from core.context import request_state
from core.http import Answered
from core.openapi import answers
from core.platform.failopen import BackendGuard, BackendUnavailable
from core.platform.redis import RedisClient, hash_tag
from core.routing import SAFE_METHODS, writes_only

logger = logging.getLogger("plinth.cache")

CACHE_HITS = Counter("plinth_cache_hits_total", "Responses served from the cache.", ["namespace"])
CACHE_MISSES = Counter(
    "plinth_cache_misses_total", "Cacheable requests the cache could not answer.", ["namespace"]
)
CACHE_BACKEND_ERRORS = Counter(
    "plinth_cache_backend_errors_total", "Cache operations that could not reach Redis."
)

KEY_PREFIX = "plinth:cache:"
CACHE_STATUS_HEADER = "X-Cache"
CACHE_HEADERS = ("ETag", CACHE_STATUS_HEADER, "Cache-Control")
CACHE_CONTROL = "private, no-cache"
ANONYMOUS = "anonymous"

P = ParamSpec("P")
R = TypeVar("R")


def _etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class CachedResponse:
    """What is stored: status, media type, body and its ETag, and the namespace version it was
    built under (an entry of an older version is stale). The ETag is worked out once, when the
    entry is built, and stored with it: a hit does not hash the body again."""

    status: int
    media_type: str
    body: bytes
    version: int = 0
    etag: str = ""

    def __post_init__(self) -> None:
        if not self.etag:
            object.__setattr__(self, "etag", _etag_of(self.body))

    def encode(self) -> bytes:
        head = {"status": self.status, "media_type": self.media_type, "v": self.version}
        return json.dumps({**head, "etag": self.etag}).encode() + b"\n" + self.body

    @classmethod
    def decode(cls, raw: bytes) -> "CachedResponse":
        head, _, body = raw.partition(b"\n")
        meta = json.loads(head)
        return cls(
            status=int(meta["status"]),
            media_type=str(meta["media_type"]),
            body=body,
            version=int(meta.get("v", -1)),
            etag=str(meta.get("etag", "")),
        )


class CacheBackend(Protocol):
    """Entries with a time to live, and a version counter per namespace."""

    async def version(self, namespace: str) -> int: ...

    async def lookup(self, namespace: str, key: str) -> tuple[int, bytes | None]:
        """The namespace's version and the entry at `key`, read together (one round trip)."""
        ...

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, expire: int) -> None: ...

    async def bump(self, namespace: str) -> None: ...


class RedisCacheBackend:
    """Entries and namespace versions in Redis, shared by every worker.

    A bump that fails (Redis unreachable) is retried before this process's next read, so this
    process never serves an entry older than its own writes.
    """

    def __init__(self, redis: RedisClient, guard: BackendGuard) -> None:
        self.redis = redis
        self.guard = guard
        self._pending_bumps: set[str] = set()

    async def _flush_bumps(self) -> None:
        for namespace in list(self._pending_bumps):
            await self.guard.call(functools.partial(self.redis.incr, _version_key(namespace)))
            self._pending_bumps.discard(namespace)

    async def version(self, namespace: str) -> int:
        await self._flush_bumps()
        raw = await self.guard.call(lambda: self.redis.get(_version_key(namespace)))
        return int(raw) if raw is not None else 0

    async def lookup(self, namespace: str, key: str) -> tuple[int, bytes | None]:
        await self._flush_bumps()
        version, raw = await self.guard.call(
            lambda: self.redis.mget(_version_key(namespace), _entry_key(key))
        )
        return int(version) if version is not None else 0, raw if isinstance(raw, bytes) else None

    async def get(self, key: str) -> bytes | None:
        raw = await self.guard.call(lambda: self.redis.get(_entry_key(key)))
        return raw if isinstance(raw, bytes) else None

    async def set(self, key: str, value: bytes, expire: int) -> None:
        await self.guard.call(lambda: self.redis.set(_entry_key(key), value, ex=expire))

    async def bump(self, namespace: str) -> None:
        self._pending_bumps.add(namespace)
        await self._flush_bumps()


class MemoryCacheBackend:
    """The in-process store of the embedded default: LRU bounded to `max_entries`, with TTLs."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._versions: dict[str, int] = {}
        self._lock = threading.Lock()

    async def version(self, namespace: str) -> int:
        return self._versions.get(namespace, 0)

    async def lookup(self, namespace: str, key: str) -> tuple[int, bytes | None]:
        return self._versions.get(namespace, 0), await self.get(key)

    async def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, value = entry
            if expires_at <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    async def set(self, key: str, value: bytes, expire: int) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + expire, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    async def bump(self, namespace: str) -> None:
        with self._lock:
            self._versions[namespace] = self._versions.get(namespace, 0) + 1


class NoCacheBackend:
    """Stores nothing: the embedded default with several workers, whose in-process caches could
    not see each other's invalidations."""

    async def version(self, namespace: str) -> int:
        return 0

    async def lookup(self, namespace: str, key: str) -> tuple[int, bytes | None]:
        return 0, None

    async def get(self, key: str) -> bytes | None:
        return None

    async def set(self, key: str, value: bytes, expire: int) -> None:
        return None

    async def bump(self, namespace: str) -> None:
        return None


def _version_key(namespace: str) -> str:
    return f"{KEY_PREFIX}{hash_tag(namespace)}:version"


def _entry_key(key: str) -> str:
    """An entry's Redis key, tagged with its namespace (`cache_key` is `namespace:digest`):
    on a Redis Cluster the entries sit in their namespace version's slot, so `lookup` reads
    both with one MGET."""
    namespace, _, digest = key.rpartition(":")
    return f"{KEY_PREFIX}{hash_tag(namespace or digest)}:{digest}"


def cache_backend(app: FastAPI) -> CacheBackend:
    """The app's cache, built on first use: Redis when `app.state.redis` is set, else memory
    (one worker) or nothing (several workers without Redis: no stale reads)."""
    backend: CacheBackend | None = getattr(app.state, "cache_backend", None)
    if backend is None:
        settings: CacheSettings = app.state.settings.cache
        redis: RedisClient | None = getattr(app.state, "redis", None)
        if redis is None and app.state.settings.app.workers > 1:
            logger.warning("response cache off: several workers and no REDIS_URL to share it")
            backend = NoCacheBackend()
        elif redis is None:
            backend = MemoryCacheBackend(settings.memory_max_entries)
        else:
            guard = BackendGuard(
                "cache",
                timeout_seconds=settings.backend_timeout_seconds,
                retry_seconds=settings.backend_retry_seconds,
                errors=CACHE_BACKEND_ERRORS,
                logger=logger,
            )
            backend = RedisCacheBackend(redis, guard)
        app.state.cache_backend = backend
    return backend


async def invalidate(target: HTTPConnection | FastAPI, *namespaces: str) -> None:
    """Make every cached response of `namespaces` stale, in every worker. Call it after the
    write committed (e.g. from a handler once the service returned, or an after-commit hook)."""
    app = target.app if isinstance(target, HTTPConnection) else target
    backend = cache_backend(app)
    for namespace in namespaces:
        try:
            await backend.bump(namespace)
        except BackendUnavailable:
            logger.warning("cache invalidation of %r deferred: backend unavailable", namespace)


def invalidates(*namespaces: str) -> DependsParam:
    """A dependency for routers or routes that write: once the handler has returned (its
    service committed) and before the response is sent, `namespaces` are invalidated. Requests
    with safe methods and failed handlers invalidate nothing.

        router = APIRouter(prefix="/users", dependencies=[invalidates("users")])
    """

    async def invalidate_after_write(request: Request) -> AsyncIterator[None]:
        yield
        if request.method not in SAFE_METHODS:
            await invalidate(request, *namespaces)

    return writes_only(Depends(invalidate_after_write, scope="function"))


def _caller_identity(request: Request) -> str:
    principal = request_state(request).get("principal")
    return f"user:{principal.id}" if principal is not None else ANONYMOUS


def cache_key(request: Request, namespace: str) -> str:
    """The entry key: namespace and a hash of route, path, query and caller."""
    route = request.scope.get("route")
    parts = [
        getattr(route, "path", ""),
        request.url.path,
        "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items())),
        _caller_identity(request),
    ]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"{namespace}:{digest}"


async def _render(request: Request, value: Any) -> bytes:
    """The JSON body FastAPI would send for `value` (the route's response model applied)."""
    route = request.scope.get("route")
    if isinstance(route, APIRoute) and route.response_field is not None:
        body = await serialize_response(
            field=route.response_field,
            response_content=value,
            include=route.response_model_include,
            exclude=route.response_model_exclude,
            by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none,
            dump_json=True,
        )
        return bytes(body)
    return bytes(JSONResponse(jsonable_encoder(value)).body)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def _respond(
    request: Request, sub_response: Response, entry: CachedResponse, status: str
) -> Response:
    headers = dict(sub_response.headers)  # rate-limit and other headers set by dependencies
    headers.update(
        {"ETag": entry.etag, "Cache-Control": CACHE_CONTROL, CACHE_STATUS_HEADER: status}
    )
    headers.pop("content-length", None)
    vary = {"Authorization", *filter(None, (sub_response.headers.get("Vary"),))}
    headers["Vary"] = ", ".join(sorted(vary))
    if entry.status == 200 and _matches(request.headers.get("If-None-Match"), entry.etag):
        return Response(status_code=304, headers=headers)
    return Response(
        entry.body, status_code=entry.status, media_type=entry.media_type, headers=headers
    )


async def _lookup(
    backend: CacheBackend, request: Request, namespace: str
) -> tuple[str | None, int, CachedResponse | None]:
    """The key, the namespace's version and its entry when that is of this version."""
    key = cache_key(request, namespace)
    try:
        version, raw = await backend.lookup(namespace, key)
    except BackendUnavailable:
        return None, 0, None
    entry = CachedResponse.decode(raw) if raw is not None else None
    return key, version, entry if entry is not None and entry.version == version else None


async def _store(backend: CacheBackend, key: str, entry: CachedResponse, expire: int) -> None:
    with contextlib.suppress(BackendUnavailable):
        await backend.set(key, entry.encode(), expire)


@dataclass(frozen=True)
class _Miss:
    """A lookup that found nothing fresh: where to store the answer, and under which version
    (read before the database was, so a racing write leaves no stale entry)."""

    key: str | None
    version: int


async def _answer_from_cache(request: Request, sub_response: Response, namespace: str) -> _Miss:
    """Answer a hit at once (`Answered`: the route's own dependencies are never solved), or
    say where the computed answer goes."""
    backend = cache_backend(request.app)
    key, version, entry = await _lookup(backend, request, namespace)
    if entry is not None:
        CACHE_HITS.labels(namespace=namespace).inc()
        raise Answered(_respond(request, sub_response, entry, "HIT"))
    CACHE_MISSES.labels(namespace=namespace).inc()
    return _Miss(key, version)


def _cacheable(request: Request) -> bool:
    settings: CacheSettings = request.app.state.settings.cache
    return settings.enabled and request.method in ("GET", "HEAD")


async def _compute(
    endpoint: Callable[..., Awaitable[Any]],
    kwargs: dict[str, Any],
    request: Request,
    sub_response: Response,
    miss: _Miss,
    expire: int,
) -> Any:
    value = await endpoint(**kwargs)
    if isinstance(value, Response):
        return value  # the route built its own response: not cacheable here
    route = request.scope.get("route")
    status = sub_response.status_code or getattr(route, "status_code", None) or 200
    entry = CachedResponse(
        status=status,
        media_type="application/json",
        body=await _render(request, value),
        version=miss.version,
    )
    max_bytes = request.app.state.settings.cache.max_body_bytes
    if miss.key is not None and status == 200 and len(entry.body) <= max_bytes:
        await _store(cache_backend(request.app), miss.key, entry, expire)
    return _respond(request, sub_response, entry, "MISS")


def cache(
    expire: int = 60, *, namespace: str = "default"
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Cache an async GET endpoint's JSON response for `expire` seconds, per caller.

    Put it under the route decorator. `namespace` names what the response is built from;
    writers call `invalidate(request, namespace)` after committing.
    """

    if expire < 1:
        raise ValueError("expire must be at least one second")

    async def look_up(request: Request, response: Response) -> _Miss | None:
        return (
            await _answer_from_cache(request, response, namespace) if _cacheable(request) else None
        )

    def decorator(endpoint: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"@cache needs an async endpoint; {endpoint.__name__} is not one")
        call: Callable[..., Awaitable[Any]] = endpoint
        signature = inspect.signature(endpoint, eval_str=True)
        # The lookup is the endpoint's first dependency: after the gate and the rate limit
        # (route dependencies), before the controller, its session and the parsed query.
        lookup = inspect.Parameter(
            "_cache_lookup",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[_Miss | None, Depends(look_up)],
        )
        extra = [
            inspect.Parameter("_cache_request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
            inspect.Parameter(
                "_cache_response", inspect.Parameter.KEYWORD_ONLY, annotation=Response
            ),
        ]

        @functools.wraps(endpoint)
        async def wrapper(*_: Any, **kwargs: Any) -> Any:  # FastAPI passes keywords only
            miss: _Miss | None = kwargs.pop("_cache_lookup")
            request: Request = kwargs.pop("_cache_request")
            sub_response: Response = kwargs.pop("_cache_response")
            if miss is None:
                return await call(**kwargs)
            return await _compute(call, kwargs, request, sub_response, miss, expire)

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[lookup, *signature.parameters.values(), *extra]
        )
        return answers(304, success_headers=CACHE_HEADERS)(wrapper)

    return decorator
