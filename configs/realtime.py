"""REALTIME_* variables: the WebSocket event stream (docs/reference/websocket.md)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings


class RealtimeSettings(PlinthSettings):
    """Tickets, per-connection bounds, heartbeats and how fast revocation is noticed."""

    model_config = SettingsConfigDict(env_prefix="REALTIME_")

    ticket_ttl_seconds: int = Field(default=30, gt=0, le=300)
    max_connections_per_user: int = Field(default=8, gt=0)
    buffer_events: int = Field(default=256, gt=0)
    heartbeat_seconds: float = Field(default=20.0, gt=0)
    idle_timeout_seconds: float = Field(default=60.0, gt=0)
    revalidate_seconds: float = Field(default=0.5, gt=0, le=1.0)
    replay_limit: int = Field(default=500, gt=0)
    client_frames_per_second: float = Field(default=10.0, gt=0)
    """What a client may send on average (pings, typing, read markers); a burst of
    `client_frame_burst` is allowed, then a faster client is closed with 1008."""
    client_frame_burst: int = Field(default=30, gt=0)
    event_retention_days: int = Field(default=7, ge=0)
    """Kept stream events (`realtime_events`, what replays and gap-fills serve) older than this
    are deleted by the job `platform.purge_realtime_events`; 0 keeps them forever."""
    purge_events_cron: str = "47 * * * *"
    """When that job runs (empty: never)."""
    channel: str = Field(default="plinth:realtime", min_length=1)
