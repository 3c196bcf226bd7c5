"""Where stream events are kept: one table for every kind of stream, so an entity gets ordered,
resumable events without a table of its own (`alembic/versions/0011_realtime_streams.py`)."""

import uuid

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Entity

KIND_LENGTH = 40
TYPE_LENGTH = 60


class RealtimeEvent(Entity):
    """One kept event of one stream, in order: the frame exactly as the socket sent it, so a
    client that reconnects (or sees a gap) gets exactly what it missed. `id` is a UUIDv7: the
    retention deletes through it, without an index on `created_at`."""

    __tablename__ = "realtime_events"
    __table_args__ = (
        Index("uq_realtime_events_stream_seq", "kind", "stream_id", "seq", unique=True),
    )

    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    stream_id: Mapped[uuid.UUID]
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(TYPE_LENGTH))
    frame: Mapped[str] = mapped_column(Text)


class RealtimeStream(Base):
    """The latest seq of a stream whose kind keeps no counter on its own row: the row an
    `INSERT … ON CONFLICT DO UPDATE … RETURNING` bumps (and locks until commit)."""

    __tablename__ = "realtime_streams"

    kind: Mapped[str] = mapped_column(String(KIND_LENGTH), primary_key=True)
    stream_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
