"""Rate limiting: `backend` holds the GCRA buckets (Redis or in process); `limiter` the route
dependencies (`RateLimiter`, `AccountLimiter`, `FailedAttemptLimiter`, `DEFAULT_RATE_LIMIT`)
and the headers middleware; `rates` where their rates come from (`Rate`, a product's own
`RateLimits`)."""

from configs.ratelimit import Rate, RateSetting
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
from core.platform.ratelimit.rates import (
    ConfiguredRate,
    RateLimits,
    RateSource,
    load_rate_limits,
)

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "AccountLimiter",
    "Bucket",
    "Caller",
    "ConfiguredRate",
    "Decision",
    "FailedAttemptLimiter",
    "MemoryRateLimitBackend",
    "Rate",
    "RateLimitBackend",
    "RateLimitHeadersMiddleware",
    "RateLimiter",
    "RateLimits",
    "RateSetting",
    "RateSource",
    "RedisRateLimitBackend",
    "by_caller",
    "by_ip",
    "load_rate_limits",
    "rate_limit_backend",
]
