"""The framework's RATE_LIMIT_* variables (and TRUSTED_PROXIES, shared with the request logs).

A product's own limits (logins, exports, ...) are declared beside the product code, in a
`core.platform.ratelimit.RateLimits` class; their fields use `RateSetting` from here.

Rates are written `<times>/<period>`, the period in seconds or with a unit: `600/1m`, `30/15m`,
`20/1h`, `5/30s`, `100/60` (= 100 per 60 seconds).
"""

import ipaddress
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from configs.base import PlinthSettings

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Rate(BaseModel, frozen=True):
    """`times` requests per `seconds`."""

    times: int = Field(gt=0)
    seconds: float = Field(gt=0)

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """Read `600/1m`, `30/15m`, `20/h`, `100/60`."""
        match = _RATE.match(text)
        if match is None:
            raise ValueError(f"a rate looks like 600/1m or 30/15m, not {text!r}")
        times, amount, unit = match.groups()
        return cls(times=int(times), seconds=float(amount or 1) * _UNIT_SECONDS[unit])

    def scaled(self, factor: float) -> "Rate":
        """The same window with `times` multiplied (at least 1)."""
        return Rate(times=max(1, int(self.times * factor)), seconds=self.seconds)

    def __str__(self) -> str:
        return f"{self.times}/{self.seconds:g}s"


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _read_rate(value: object) -> object:
    return Rate.parse(value) if isinstance(value, str) else value


RateSetting = Annotated[Rate, NoDecode, BeforeValidator(_read_rate)]
"""A settings field holding a rate: reads `600/1m` (see the module docstring) or a `Rate`."""


class RateLimitSettings(PlinthSettings):
    """API-wide limits per caller (user id when authenticated, else client IP), scope multipliers
    and the failure policy."""

    model_config = SettingsConfigDict(env_prefix="RATE_LIMIT_")

    enabled: bool = True
    user: RateSetting = Rate(times=600, seconds=60)
    anonymous: RateSetting = Rate(times=120, seconds=60)
    api_key: RateSetting = Rate(times=300, seconds=60)
    scope_multipliers: dict[str, float] = {"admin": 5.0, "superuser": 10.0}
    fail_closed_auth: bool = False
    backend_timeout_seconds: float = Field(default=0.5, gt=0)
    backend_retry_seconds: float = Field(default=2.0, ge=0)
    memory_max_keys: int = Field(default=100_000, gt=0)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default=[], validation_alias="TRUSTED_PROXIES"
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def split_proxies(cls, value: object) -> object:
        """Accept `10.0.0.1,10.1.0.0/16` as well as a JSON list."""
        return _split_commas(value)

    @model_validator(mode="after")
    def check_proxies(self) -> "RateLimitSettings":
        """Refuse to start with a proxy entry that is not an IP address or network."""
        for entry in self.trusted_proxies:
            ipaddress.ip_network(entry, strict=False)
        return self
