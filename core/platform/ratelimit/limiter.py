"""Rate limiting as route dependencies: who a limit counts against, the limiters, and the
middleware that reports X-RateLimit-* headers on every limited response.

    @router.post("/reports", dependencies=[Depends(RateLimiter(times=5, seconds=60))])

A rate can also come from the product's own settings, overridable from the environment
(`RateLimits`, in `core.platform.ratelimit.rates`):

    EXPORTS = RateLimiter(rate=ProjectLimits.rate(lambda limits: limits.exports))

Every API route also passes `DEFAULT_RATE_LIMIT` (RATE_LIMIT_USER per user, RATE_LIMIT_ANONYMOUS
per client IP). Callers are keyed by user id when a valid bearer token is sent, else by client IP
(see `core.platform.clientip`). Scope multipliers (RATE_LIMIT_SCOPE_MULTIPLIERS) raise the limits
of admins. Flows that count only failures (logins) use `FailedAttemptLimiter`.
"""

import contextlib
import hashlib
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from configs.ratelimit import Rate, RateLimitSettings
from core.context import request_state
from core.deps import bearer_token, resolve_principal
from core.errors import AppError, ServiceUnavailable, TooManyRequests
from core.middleware import is_probe
from core.openapi import RATE_LIMIT_HEADERS, answers
from core.platform.clientip import client_ip
from core.platform.failopen import BackendUnavailable
from core.platform.ratelimit.backend import (
    HEADERS_STATE,
    LIMIT_HEADER,
    RATE_LIMIT_REJECTIONS,
    REMAINING_HEADER,
    Bucket,
    Decision,
    rate_limit_backend,
)
from core.platform.ratelimit.rates import RateSource, resolve_rate
from core.security import Principal

_CHARGED = "plinth.rate_limit_charged"
"""Where a request keeps the decisions it was charged (`enforce`), in its ASGI scope."""

# -- callers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who a limit counts against: the authenticated principal, else the client IP."""

    principal: Principal | None
    ip: str

    @property
    def key(self) -> str:
        """`key:<id>` for an API key, `user:<id>` for a token, else `ip:<address>`."""
        if self.principal is None:
            return f"ip:{self.ip}"
        if self.principal.api_key_id:
            return f"key:{self.principal.api_key_id}"
        return f"user:{self.principal.id}"


async def identify_caller(request: Request) -> Caller:
    """The caller of this request. A valid bearer token is resolved here (once per request; the
    gate reuses the outcome); an invalid one counts as anonymous and the gate still answers 401."""
    principal: Principal | None = None
    token = bearer_token(request)
    if token:
        with contextlib.suppress(AppError):
            principal = await resolve_principal(request, token)
    return Caller(principal=principal, ip=client_ip(request))


KeyFunction = Callable[[Request, Caller], str]


def by_caller(_: Request, caller: Caller) -> str:
    """Key by user id when authenticated, else by client IP (the default)."""
    return caller.key


def by_ip(_: Request, caller: Caller) -> str:
    """Key by client IP whoever is signed in (registration, login)."""
    return f"ip:{caller.ip}"


def account_key(account: str) -> str:
    """A bucket key for an account name (e-mail), hashed so Redis holds no addresses."""
    digest = hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]
    return f"account:{digest}"


def multiplier_for(principal: Principal | None, multipliers: Mapping[str, float]) -> float:
    """The largest multiplier among the principal's scopes (1 for anonymous callers)."""
    if principal is None:
        return 1.0
    return max([multipliers.get(scope, 1.0) for scope in principal.scopes], default=1.0)


# -- enforcing --------------------------------------------------------------------------------


def _settings(connection: HTTPConnection) -> RateLimitSettings:
    settings: RateLimitSettings = connection.app.state.settings.ratelimit
    return settings


def _set_headers(request: Request, response: Response | None, decision: Decision) -> None:
    """Report the tightest limit when several apply to one request: on the response, and in
    the request state for `RateLimitHeadersMiddleware` (errors raised later)."""
    state = request_state(request)
    current: dict[str, str] | None = state.get(HEADERS_STATE)
    if current is not None and int(current[REMAINING_HEADER]) <= decision.remaining:
        return
    headers = state[HEADERS_STATE] = decision.headers()
    if response is not None:
        response.headers.update(headers)


class RateLimitHeadersMiddleware:
    """Adds the request's X-RateLimit-* headers to responses that lack them: errors raised after
    the check passed (401 from a gate, 404, 422) are limited responses too. Probes are never
    limited, so they pass straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_probe(scope):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            found = state.get(HEADERS_STATE)
            if message["type"] == "http.response.start" and found:
                headers = MutableHeaders(scope=message)
                if LIMIT_HEADER not in headers:
                    headers.update(found)
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def enforce(
    request: Request,
    buckets: Sequence[Bucket],
    *,
    name: str,
    fail_closed: bool,
    response: Response | None = None,
    cost: int = 1,
) -> Decision | None:
    """Charge `buckets` (all or none); 429 when any is exhausted. When Redis is unavailable:
    None (fail open, logged and counted) or 503 when `fail_closed`. A request that runs again
    (a read answered from the primary after its replica failed) is charged once: the second
    run gets the first run's decision."""
    charged: dict[tuple[str, ...], Decision] = request.scope.setdefault(_CHARGED, {})
    keys = tuple(bucket.key for bucket in buckets)
    if keys in charged:
        _set_headers(request, response, charged[keys])
        return charged[keys]
    try:
        decision = await rate_limit_backend(request.app).hit(buckets, cost)
    except BackendUnavailable as exc:
        if fail_closed:
            raise ServiceUnavailable(
                "Rate limiting is unavailable; try again shortly.", headers={"Retry-After": "5"}
            ) from exc
        return None
    if not decision.allowed:
        RATE_LIMIT_REJECTIONS.labels(limit=name).inc()
        retry_after = max(1, math.ceil(decision.retry_after))
        raise TooManyRequests(
            f"Rate limit exceeded: {decision.limit} per {buckets[0].rate.seconds:g} seconds. "
            f"Try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after), **decision.headers()},
        )
    charged[keys] = decision
    _set_headers(request, response, decision)
    return decision


async def refund(request: Request, buckets: Sequence[Bucket], cost: int = 1) -> None:
    """Give `cost` back to each bucket; silently skipped when Redis is unavailable."""
    with suppress(BackendUnavailable):
        await rate_limit_backend(request.app).refund(buckets, cost)


def _one_rate(times: int | None, seconds: float | None, rate: RateSource | None) -> RateSource:
    if rate is not None and times is None and seconds is None:
        return rate
    if rate is None and times is not None and seconds is not None:
        return Rate(times=times, seconds=seconds)
    raise ValueError("give either times and seconds, or rate")


@answers(429, 503, headers=RATE_LIMIT_HEADERS)  # 503: fail-closed, or the database
class RateLimiter:
    """A route dependency: `dependencies=[Depends(RateLimiter(times=5, seconds=60))]`.

    Args:
        times: requests allowed per `seconds` (or give `rate`).
        seconds: the window of `times`.
        rate: a `Rate`, or where to read it per request
            (`YourLimits.rate(lambda limits: limits.exports)`, see `RateLimits`).
        name: the bucket name; by default each route (method + path template) has its own.
        key: how callers are told apart (`by_caller` — user, else IP — or `by_ip`, or yours).
        scope_multipliers: per-scope factors; default RATE_LIMIT_SCOPE_MULTIPLIERS.
        fail_closed: answer 503 when Redis is unavailable; default: fail open, except limiters
            with `auth=True`, which follow RATE_LIMIT_FAIL_CLOSED_AUTH.
    """

    def __init__(
        self,
        times: int | None = None,
        seconds: float | None = None,
        *,
        rate: RateSource | None = None,
        name: str | None = None,
        key: KeyFunction = by_caller,
        scope_multipliers: Mapping[str, float] | None = None,
        fail_closed: bool | None = None,
        auth: bool = False,
    ) -> None:
        self.rate = _one_rate(times, seconds, rate)
        self.name = name
        self.key = key
        self.scope_multipliers = scope_multipliers
        self.fail_closed = fail_closed
        self.auth = auth

    def rate_for(self, request: Request, settings: RateLimitSettings, caller: Caller) -> Rate:
        """The caller's rate, multiplier applied. Override for rates that depend on the caller."""
        rate = resolve_rate(self.rate, request)
        multipliers = self.scope_multipliers
        if multipliers is None:
            multipliers = settings.scope_multipliers
        return rate.scaled(multiplier_for(caller.principal, multipliers))

    def bucket_name(self, request: Request) -> str:
        """The bucket's name: `name`, else the route's method and path template."""
        if self.name:
            return self.name
        route = request.scope.get("route")
        return f"{request.method} {getattr(route, 'path', request.url.path)}"

    def is_fail_closed(self, settings: RateLimitSettings) -> bool:
        if self.fail_closed is not None:
            return self.fail_closed
        return self.auth and settings.fail_closed_auth

    async def __call__(self, request: Request, response: Response) -> None:
        settings = _settings(request)
        if not settings.enabled:
            return
        caller = await identify_caller(request)
        name = self.bucket_name(request)
        rate = self.rate_for(request, settings, caller)
        bucket = Bucket(f"{name}:{self.key(request, caller)}", rate)
        await enforce(
            request,
            [bucket],
            name=name,
            fail_closed=self.is_fail_closed(settings),
            response=response,
        )


class DefaultRateLimit(RateLimiter):
    """The API-wide limit: RATE_LIMIT_USER per user (times multipliers), RATE_LIMIT_API_KEY per
    API key, RATE_LIMIT_ANONYMOUS per client IP."""

    def __init__(self) -> None:
        super().__init__(rate=lambda request: _settings(request).user, name="api")

    def rate_for(self, request: Request, settings: RateLimitSettings, caller: Caller) -> Rate:
        if caller.principal is None:
            return settings.anonymous
        if caller.principal.api_key_id:
            return settings.api_key
        return super().rate_for(request, settings, caller)


DEFAULT_RATE_LIMIT = DefaultRateLimit()
"""Attached to the /api/v1 router: every API route is limited per caller."""


class AccountLimiter:
    """Limits every attempt per account name (an e-mail address, hashed in the bucket key) and
    per client IP, charged to both atomically; nothing is given back. For flows that send mail:

        MAIL_SENDS = AccountLimiter(
            name="email",
            account_rate=UserLimits.rate(lambda limits: limits.email_address),
            ip_rate=UserLimits.rate(lambda limits: limits.email_ip),
        )
        await MAIL_SENDS.hit(request, data.email, response)

    The address need not belong to an account, so a 429 says nothing about whether it does.
    """

    def __init__(
        self,
        *,
        name: str,
        account_rate: RateSource,
        ip_rate: RateSource,
        fail_closed: bool | None = None,
    ) -> None:
        self.name = name
        self.account_rate = account_rate
        self.ip_rate = ip_rate
        self.fail_closed = fail_closed

    def buckets(self, request: Request, account: str) -> list[Bucket]:
        """The account's bucket and the client IP's."""
        return [
            Bucket(
                f"{self.name}:{account_key(account)}",
                resolve_rate(self.account_rate, request),
                tag=self.name,
            ),
            Bucket(
                f"{self.name}:ip:{client_ip(request)}",
                resolve_rate(self.ip_rate, request),
                tag=self.name,
            ),
        ]

    def is_fail_closed(self, settings: RateLimitSettings) -> bool:
        """`fail_closed` when given, else RATE_LIMIT_FAIL_CLOSED_AUTH."""
        return settings.fail_closed_auth if self.fail_closed is None else self.fail_closed

    async def hit(
        self, request: Request, account: str, response: Response | None = None
    ) -> Decision | None:
        """Charge one attempt; 429 when the account or the IP has none left."""
        settings = _settings(request)
        if not settings.enabled:
            return None
        return await enforce(
            request,
            self.buckets(request, account),
            name=self.name,
            fail_closed=self.is_fail_closed(settings),
            response=response,
        )


KNOWN_CLIENT_DAYS = 30
"""How long a client that signed in to an account stays known to it (`FailedAttemptLimiter`)."""


class FailedAttemptLimiter(AccountLimiter):
    """Limits guesses without handing strangers a lockout switch; a success is given back.

        async with FAILED_LOGINS.attempt(request, email, response):
            tokens = await auth.login(email, password)

    Three buckets are charged up front, atomically (concurrent guesses cannot slip past):
    `account_client_rate` per account and client IP (strict), `ip_rate` per client IP (across
    accounts) and `account_rate` per account (a far higher ceiling, against guesses spread
    over many addresses). When only the account's ceiling is reached, a client that signed in
    to the account before (within `KNOWN_CLIENT_DAYS`) still gets its own strict allowance: a
    stranger's guesses never lock the owner out of a device they use. Without
    `account_client_rate`, the account and the IP buckets alone apply (no exception).
    """

    def __init__(
        self,
        *,
        name: str,
        account_rate: RateSource,
        ip_rate: RateSource,
        account_client_rate: RateSource | None = None,
        fail_closed: bool | None = None,
    ) -> None:
        super().__init__(
            name=name, account_rate=account_rate, ip_rate=ip_rate, fail_closed=fail_closed
        )
        self.account_client_rate = account_client_rate

    def buckets(self, request: Request, account: str) -> list[Bucket]:
        """The strict buckets (account and client, client), then the account's ceiling."""
        return [*self.strict_buckets(request, account), *super().buckets(request, account)[:1]]

    def strict_buckets(self, request: Request, account: str) -> list[Bucket]:
        """The account-and-client bucket (when configured) and the client IP's."""
        ip = client_ip(request)
        strict = [Bucket(f"{self.name}:ip:{ip}", resolve_rate(self.ip_rate, request), self.name)]
        if self.account_client_rate is not None:
            rate = resolve_rate(self.account_client_rate, request)
            strict.insert(0, Bucket(f"{self.name}:{account_key(account)}:ip:{ip}", rate, self.name))
        return strict

    def known_client(self, request: Request, account: str) -> Bucket:
        """The marker of a client that signed in to `account`: a bucket charged once."""
        rate = Rate(times=1, seconds=KNOWN_CLIENT_DAYS * 86400)
        return Bucket(f"{self.name}:known:{account_key(account)}:ip:{client_ip(request)}", rate)

    async def _is_known(self, request: Request, account: str) -> bool:
        try:  # a zero-cost hit reads the bucket without charging it
            peek = await rate_limit_backend(request.app).hit(
                [self.known_client(request, account)], 0
            )
        except BackendUnavailable:
            return False
        return peek.remaining == 0

    async def _remember(self, request: Request, account: str) -> None:
        """Mark the client as known to `account` (skipped when Redis is unavailable)."""
        with suppress(BackendUnavailable):
            await rate_limit_backend(request.app).hit([self.known_client(request, account)])

    async def _charge(
        self, request: Request, account: str, response: Response | None
    ) -> tuple[Decision | None, list[Bucket]]:
        """Charge every bucket; past the account's ceiling, a known client's strict ones."""
        buckets = self.buckets(request, account)
        try:
            return await self.hit(request, account, response), buckets
        except TooManyRequests:
            if self.account_client_rate is None or not await self._is_known(request, account):
                raise
        strict = self.strict_buckets(request, account)
        settings = _settings(request)
        decision = await enforce(
            request,
            strict,
            name=self.name,
            fail_closed=self.is_fail_closed(settings),
            response=response,
        )
        return decision, strict

    @asynccontextmanager
    async def attempt(
        self, request: Request, account: str, response: Response | None = None
    ) -> AsyncIterator[None]:
        """Charge one attempt (429 when out of attempts), run the block; if it succeeded,
        refund the attempt and remember the client as known to the account."""
        decision, charged = await self._charge(request, account, response)
        yield
        if decision is not None:
            await refund(request, charged)
            if self.account_client_rate is not None:
                await self._remember(request, account)
            if response is not None and REMAINING_HEADER in response.headers:
                given_back = min(decision.limit, int(response.headers[REMAINING_HEADER]) + 1)
                response.headers[REMAINING_HEADER] = str(given_back)
