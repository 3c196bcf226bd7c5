"""Bounded calls to an optional backend (Redis) for features that fail open: limits and cache.

Every call gets a time budget (the Redis client's own retries can take seconds), and after a
failure the backend is skipped for `retry_seconds`, so an outage costs one timeout, not one per
request. Callers catch `BackendUnavailable` and decide: serve anyway, or answer 503.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import Counter
from redis.exceptions import RedisClusterException, RedisError

T = TypeVar("T")
BACKEND_ERRORS = (RedisError, RedisClusterException, OSError, TimeoutError)
"""A cluster client raises RedisClusterException (not a RedisError) when no node answers."""


class BackendUnavailable(Exception):
    """The backend failed, timed out, or is being skipped after a recent failure."""


class BackendGuard:
    """Runs backend calls within a time budget and skips the backend for a while after a failure."""

    def __init__(
        self,
        name: str,
        *,
        timeout_seconds: float,
        retry_seconds: float,
        errors: Counter,
        logger: logging.Logger,
    ) -> None:
        self.name = name
        self.timeout_seconds = timeout_seconds
        self.retry_seconds = retry_seconds
        self._errors = errors
        self._logger = logger
        self._skip_until = 0.0

    @property
    def is_skipping(self) -> bool:
        """True while the backend is skipped after a failure."""
        return time.monotonic() < self._skip_until

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """`await operation()` within the budget; raises `BackendUnavailable` on any failure."""
        if self.is_skipping:
            self._errors.inc()
            raise BackendUnavailable(f"{self.name} backend skipped after a recent failure")
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await operation()
        except BACKEND_ERRORS as exc:
            self._errors.inc()
            self._skip_until = time.monotonic() + self.retry_seconds
            self._logger.warning(
                "%s backend unavailable (%s: %s); failing open for %.1fs",
                self.name,
                type(exc).__name__,
                exc,
                self.retry_seconds,
            )
            raise BackendUnavailable(str(exc) or type(exc).__name__) from exc
