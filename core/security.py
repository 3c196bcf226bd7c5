"""Passwords, tokens, scopes and the principal — the one module to swap for other auth.

Passwords: pwdlib with Argon2id (m=19 MiB, t=2, p=1: the OWASP minimum), hashed off the event
loop. Tokens: PyJWT with a pinned algorithm and required claims; access and refresh tokens are
told apart by their `type` claim and are never interchangeable.
"""

import asyncio
import contextlib
import ctypes
import functools
import hmac
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from core.db import utcnow
from core.errors import Unauthorized

T = TypeVar("T")
REQUIRED_CLAIMS = ("exp", "iat", "sub", "jti", "iss", "aud", "type")
ClaimTypes = Mapping[str, type | tuple[type, ...]]
REGISTERED_CLAIM_TYPES: ClaimTypes = {
    "exp": (int, float),
    "iat": (int, float),
    "nbf": (int, float),
    "sub": str,
    "jti": str,
    "type": str,
}
"""The JSON type each registered claim must have when present (a signed `"exp": "170…"` is
refused, not compared as a string later)."""
VERIFIED_TOKENS = 10_000
"""How many verified tokens a `TokenService` remembers (a few MB at most; then it starts over)."""


class Scope(StrEnum):
    """OAuth2 scopes. Each implies the ones below it: superuser > admin > regular."""

    REGULAR = "regular"
    ADMIN = "admin"
    SUPERUSER = "superuser"


_IMPLIES: Mapping[str, frozenset[str]] = {
    Scope.SUPERUSER: frozenset({Scope.SUPERUSER, Scope.ADMIN, Scope.REGULAR}),
    Scope.ADMIN: frozenset({Scope.ADMIN, Scope.REGULAR}),
    Scope.REGULAR: frozenset({Scope.REGULAR}),
}


def expand_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes together with every scope they imply; unknown names are dropped."""
    expanded: set[str] = set()
    for scope in scopes:
        expanded |= _IMPLIES.get(scope, frozenset())
    return frozenset(expanded)


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved once per request from the bearer token.

    `scopes` are the token's granted scopes, expanded and narrowed to what the account still
    holds. `account` is the app's loaded user object, for controllers that need more.
    `api_key_id` is set when the caller authenticated with an API key instead of a token: rate
    limits and request logs count against the key, and flows that need a person refuse it.
    """

    id: uuid.UUID
    scopes: frozenset[str]
    token_id: str | None = None
    session_id: str | None = None
    api_key_id: uuid.UUID | None = None
    account: Any = field(default=None, compare=False, repr=False)

    def has(self, scope: str) -> bool:
        """Whether the principal holds `scope` (directly or through a higher one)."""
        return scope in self.scopes


HASHING_NICENESS = 4
"""How much lower than the event loop the hashing threads run (Linux `nice` steps)."""


def _lower_thread_priority() -> None:
    """Run the calling thread at background priority, so the kernel gives a waiting event loop
    the core before a hash: a login storm then slows logins, not every other request. Linux
    keeps a niceness per thread; elsewhere `setpriority` would lower the whole process, so it
    is left alone there."""
    if sys.platform == "linux":
        thread = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, thread) + HASHING_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(19, niceness))


def _glibc_malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim(3)`, or None where the C library has none (musl, macOS)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


# Argon2id mallocs its 19 MiB block per hash. After the first one is freed, glibc's dynamic
# mmap threshold rises to that size (and the trim threshold to twice it), so later blocks come
# from the heap and stay there once freed, under whatever requests allocated meanwhile. Reusing
# them is right during a login storm — a reused block is not faulted in again (a fixed
# M_MMAP_THRESHOLD below 19 MiB gives every hash fresh pages: 5-10 ms more CPU per hash,
# measured) — so the pool hands the freed memory back when its last running hash is done.
# malloc_trim returns free memory inside the main arena and at its top, not at the top of the
# other arenas: compose/start sets MALLOC_ARENA_MAX=1 so the hashing threads allocate there.
# Measured by the bench (1 worker, after the login storm): 165 MB without this, 108 with it
# (127 with two arenas); after start-up 123 → 104 (the bench logs in twice before reading it).
_MALLOC_TRIM = _glibc_malloc_trim()


@functools.cache
def hashing_executor(threads: int) -> ThreadPoolExecutor:
    """The process's pool of `threads` hashing threads (one pool per size), each at background
    priority (`HASHING_NICENESS`)."""
    return ThreadPoolExecutor(
        max_workers=threads, thread_name_prefix="password-hash", initializer=_lower_thread_priority
    )


def hashing_threads_per_worker(workers: int) -> int:
    """Hashing threads for one of `workers` processes on this machine: the cores shared out,
    so hashes from every worker together never take the cores the event loops need."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


class PasswordHasher:
    """Argon2id hashing and verification on a small thread pool, off the event loop.

    Argon2 releases the GIL, so hashes run in parallel; `threads` bounds them (see
    `hashing_threads_per_worker`) so a login storm cannot take every core from the event loops.
    When the last running hash finishes, the memory the hashes freed goes back to the system
    (glibc only; see `_MALLOC_TRIM`).
    """

    def __init__(
        self,
        *,
        memory_cost: int = 19456,
        time_cost: int = 2,
        parallelism: int = 1,
        threads: int | None = None,
    ) -> None:
        self._hash = PasswordHash(
            (Argon2Hasher(memory_cost=memory_cost, time_cost=time_cost, parallelism=parallelism),)
        )
        self._dummy_hash = self._hash.hash(os.urandom(16).hex())
        self.threads = threads or hashing_threads_per_worker(1)
        self._running = 0

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        executor = hashing_executor(self.threads)
        self._running += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        finally:
            self._running -= 1
            if self._running == 0 and _MALLOC_TRIM is not None:
                with contextlib.suppress(RuntimeError):  # the pool is shutting down
                    executor.submit(_MALLOC_TRIM, 0)  # a few ms: on a hashing thread

    async def hash(self, password: str) -> str:
        """A new Argon2id hash of `password`."""
        return await self._run(self._hash.hash, password)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """`(valid, new_hash)`: new_hash is set when the stored hash used older parameters.

        With no stored hash (unknown user) a dummy hash is checked, so the answer takes as long.
        """
        target = hashed or self._dummy_hash
        valid, updated = await self._run(self._hash.verify_and_update, password, target)
        return (valid and hashed is not None), updated


@dataclass(frozen=True)
class TokenConfig:
    """What tokens are signed with and how long they live."""

    secret: str
    algorithm: str = "HS256"
    issuer: str = "plinth"
    audience: str = "plinth-api"
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=14)
    claim_types: ClaimTypes = field(default_factory=dict)
    """The app's own claims and their JSON types (`{"scope": str, "ver": int}`): a token whose
    claim has another type is refused like a forged one."""


class TokenType(StrEnum):
    """The `type` claim: which kind of token this is."""

    ACCESS = "access"
    REFRESH = "refresh"


class TokenService:
    """Issues and verifies JWTs; every failure is the same `Unauthorized`."""

    def __init__(self, config: TokenConfig) -> None:
        self.config = config
        self._verified: dict[str, dict[str, Any]] = {}

    def issue(
        self, subject: uuid.UUID, token_type: TokenType, claims: Mapping[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """A signed token and its claims. `claims` adds app claims (scopes, version, family)."""
        now = utcnow()
        ttl = self.config.access_ttl if token_type is TokenType.ACCESS else self.config.refresh_ttl
        payload: dict[str, Any] = {
            **(claims or {}),
            "sub": str(subject),
            "type": token_type.value,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "iss": self.config.issuer,
            "aud": self.config.audience,
        }
        token = jwt.encode(payload, self.config.secret, algorithm=self.config.algorithm)
        return token, payload

    def verify(self, token: str, token_type: TokenType) -> dict[str, Any]:
        """The claims of a valid, unexpired token of `token_type`; otherwise `Unauthorized`.

        A client sends the same token on every request until it expires, so a token whose
        signature and claims were checked is remembered (up to VERIFIED_TOKENS of them): later
        calls only check its expiry and type. Revocation is not decided here — the caller
        checks the account and session on every request.
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._verified) >= VERIFIED_TOKENS:
                self._verified.clear()
            self._verified[token] = claims
        elif claims["exp"] <= time.time():
            del self._verified[token]
            raise Unauthorized("The token is invalid or expired.")
        if claims.get("type") != token_type.value:
            raise Unauthorized("The token is invalid or expired.")
        return dict(claims)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.config.secret,
                algorithms=[self.config.algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
            uuid.UUID(str(claims["sub"]))
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized("The token is invalid or expired.") from exc
        if not claims_well_typed(claims, {**REGISTERED_CLAIM_TYPES, **self.config.claim_types}):
            raise Unauthorized("The token is invalid or expired.")
        return claims


def claims_well_typed(claims: Mapping[str, Any], types: ClaimTypes) -> bool:
    """Whether every claim named in `types` that `claims` holds has its JSON type (a boolean is
    never a number)."""
    for name, expected in types.items():
        value = claims.get(name)
        if value is None and name not in claims:
            continue
        if isinstance(value, bool) and bool not in _as_tuple(expected):
            return False
        if not isinstance(value, expected):
            return False
    return True


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def constant_time_equals(given: str, expected: str) -> bool:
    """Compare secrets without leaking where they differ."""
    return hmac.compare_digest(given.encode(), expected.encode())
