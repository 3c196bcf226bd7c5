"""Rate limiting: `backend` holds the GCRA buckets (Redis or in process); `limiter` the route
dependencies (`RateLimiter`, `AccountLimiter`, `FailedAttemptLimiter`, `DEFAULT_RATE_LIMIT`)
and the headers middleware."""

from core.platform.ratelimit.backend import (
    Bucket,
    Decision,
    MemoryRateLimitBackend,
    RateLimitBackend,
    RedisRateLimitBackend,
    rate_limit_backend,
)
from core.platform.ratelimit.limiter import (
    DEFAULT_RATE_LIMIT,
    AccountLimiter,
    Caller,
    FailedAttemptLimiter,
    RateLimiter,
    RateLimitHeadersMiddleware,
    by_caller,
    by_ip,
)

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "AccountLimiter",
    "Bucket",
    "Caller",
    "Decision",
    "FailedAttemptLimiter",
    "MemoryRateLimitBackend",
    "RateLimitBackend",
    "RateLimitHeadersMiddleware",
    "RateLimiter",
    "RedisRateLimitBackend",
    "by_caller",
    "by_ip",
    "rate_limit_backend",
]
