"""`RequestLog`: one row per API request served (never bodies, query strings or tokens)."""

import uuid
from datetime import datetime

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Entity, utcnow

MAX_ROUTE_LENGTH = 200
MAX_IP_LENGTH = 45


class RequestLog(Entity):
    """One API request served: who, what route, how it ended and how long it took."""

    __tablename__ = "api_request_logs"
    __table_args__ = (
        Index("ix_api_request_logs_user_id_created_at", "user_id", "created_at"),
        Index("ix_api_request_logs_route_created_at", "route", "created_at"),
        Index("ix_api_request_logs_status_created_at", "status", "created_at"),
    )

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(MAX_ROUTE_LENGTH))
    status: Mapped[int]
    duration_ms: Mapped[float] = mapped_column(Float)
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    client_ip: Mapped[str | None] = mapped_column(String(MAX_IP_LENGTH), default=None)
    request_id: Mapped[str | None] = mapped_column(String(128), default=None, index=True)
