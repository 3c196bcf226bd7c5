"""Where a limiter's rate comes from: a `Rate` given in code, or a product's own settings.

A product declares its limits beside the code they protect, each overridable from the
environment, without touching the framework's settings:

    class ProjectLimits(RateLimits):
        exports: RateSetting = Rate.parse("5/1h")  # RATE_LIMIT_EXPORTS=20/1h overrides it

    EXPORTS = RateLimiter(rate=ProjectLimits.rate(lambda limits: limits.exports))

Every `RateLimits` class defined when the app is built is read from the environment then (a bad
value refuses to start) and kept on the app, so each app instance has its own values.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict
from starlette.requests import HTTPConnection

from configs.base import PlinthSettings
from configs.ratelimit import Rate, RateLimitSettings

RateSource = Rate | Callable[[HTTPConnection], Rate]
"""A limiter's rate: fixed, or read per request (from the app's settings, say)."""

LimitsT = TypeVar("LimitsT", bound="RateLimits")


class RateLimits(PlinthSettings):
    """Base class for a product's own rate limits. Each field typed `RateSetting` is one limit,
    read from RATE_LIMIT_<FIELD> (override `env_prefix` in `model_config` for another prefix).
    Hand a limiter `YourLimits.rate(lambda limits: limits.field)`."""

    model_config = SettingsConfigDict(env_prefix="RATE_LIMIT_")

    _declared: ClassVar[list[type["RateLimits"]]] = []

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        taken = _env_names(RateLimitSettings).union(*map(_env_names, RateLimits._declared))
        if clash := sorted(_env_names(cls) & taken):
            raise TypeError(f"{cls.__name__}: {', '.join(clash)} already read by another class")
        RateLimits._declared.append(cls)

    @classmethod
    def rate(cls, read: Callable[[Self], Rate]) -> "ConfiguredRate[Self]":
        """A rate source for a limiter: `read` picks the field from this app's values."""
        return ConfiguredRate(cls, read)

    @classmethod
    def of(cls, connection: HTTPConnection) -> Self:
        """This class's values for the connection's app (read when the app was built)."""
        loaded = app_rate_limits(connection.app)
        if cls not in loaded:  # defined after the app was built
            loaded[cls] = cls.load()
        found = loaded[cls]
        assert isinstance(found, cls)
        return found


def _env_names(settings: type[PlinthSettings]) -> set[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


@dataclass(frozen=True)
class ConfiguredRate(Generic[LimitsT]):
    """A rate read from the app's `RateLimits` values on each request (see `RateLimits.rate`)."""

    limits: type[LimitsT]
    read: Callable[[LimitsT], Rate]

    def __call__(self, connection: HTTPConnection) -> Rate:
        return self.read(self.limits.of(connection))


def load_rate_limits() -> dict[type[RateLimits], RateLimits]:
    """Every `RateLimits` class defined so far, read from the environment (and ENV_FILE).

    Raises:
        pydantic.ValidationError: a value is not a rate (`600/1m`).
    """
    return {cls: cls.load() for cls in RateLimits._declared}


def app_rate_limits(app: FastAPI) -> dict[type[RateLimits], RateLimits]:
    """The app's `RateLimits` values (`create_application` reads them at start-up)."""
    loaded: dict[type[RateLimits], RateLimits] | None = getattr(app.state, "rate_limits", None)
    if loaded is None:
        loaded = app.state.rate_limits = load_rate_limits()
    return loaded


def resolve_rate(source: RateSource, connection: HTTPConnection) -> Rate:
    """The rate `source` gives for this request."""
    return source if isinstance(source, Rate) else source(connection)
