"""`FailedJob`: a job that used up its attempts (or deliveries), kept for admins to inspect."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, new_id, utcnow

MAX_ERROR_LENGTH = 4000


class FailedJob(Base):
    """One job that was given up on: its name, arguments, last error and how often it ran."""

    __tablename__ = "failed_jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    job: Mapped[str] = mapped_column(String(200), index=True)
    task_id: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int]
    worker: Mapped[str] = mapped_column(String(200), default="")
