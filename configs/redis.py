"""REDIS_* variables. With no URL, in-process stand-ins serve limits, cache and revocation."""

from typing import Self

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class RedisSettings(PlinthSettings):
    """REDIS_URL, the per-operation timeout, and how to reach a Sentinel-managed or a clustered
    Redis (REDIS_SENTINELS or REDIS_CLUSTER; a single server by default)."""

    model_config = SettingsConfigDict(env_prefix="REDIS_")

    url: str | None = None
    timeout_seconds: float = 0.25
    sentinels: str | None = None
    """`host:port,host:port,...`: ask these sentinels for the master of REDIS_SENTINEL_MASTER
    and follow its failovers. REDIS_URL still switches Redis on and gives the database number,
    password and scheme; its host and port are not used."""
    sentinel_master: str = "mymaster"
    cluster: bool = False
    """REDIS_URL names one node of a Redis Cluster; the client discovers the others."""

    @model_validator(mode="after")
    def _one_topology(self) -> Self:
        if self.sentinels and self.cluster:
            raise ValueError("set REDIS_SENTINELS or REDIS_CLUSTER, not both")
        if (self.sentinels or self.cluster) and not self.url:
            raise ValueError("REDIS_SENTINELS and REDIS_CLUSTER need REDIS_URL too")
        return self

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """REDIS_SENTINELS as (host, port) pairs."""
        pairs = [item.strip().rpartition(":") for item in (self.sentinels or "").split(",")]
        return [(host, int(port)) for host, _, port in pairs if host]
