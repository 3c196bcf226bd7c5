"""The messenger on the event stream: what a socket may send (typing, read markers) and what a
resumed socket missed (replayed from `thread_events`)."""

import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from app.messenger import events
from app.messenger.controller import ThreadController
from app.messenger.events import replay_frames
from app.messenger.schemas import ReadMarker
from app.users.realtime import principal_of, revalidator
from core.db import Database
from core.errors import InvalidInput, field_error
from core.platform.realtime import Connection, FrameHandler, Replayer, frame, realtime_lifespan
from core.service import unit_of_work

TYPING_EVERY_SECONDS = 2.0
"""A socket's typing frames for one thread are forwarded at most this often."""


class TypingFrame(BaseModel):
    type: Literal["typing"]
    thread_id: uuid.UUID


class ReadFrame(BaseModel):
    type: Literal["read"]
    thread_id: uuid.UUID
    seq: int | None = Field(default=None, ge=0)


ClientFrame = TypeAdapter[TypingFrame | ReadFrame](
    Annotated[TypingFrame | ReadFrame, Field(discriminator="type")]
)


def parse_frame(data: dict[str, Any]) -> TypingFrame | ReadFrame:
    """A client frame, or a 422-like `InvalidInput` naming what is wrong."""
    try:
        return ClientFrame.validate_python(data)
    except ValidationError as exc:
        errors = [field_error(["frame", *e["loc"]], e["msg"], e["type"]) for e in exc.errors()]
        raise InvalidInput("The frame is not valid.", errors=errors) from exc


def frame_handler(app: FastAPI) -> FrameHandler:
    """Typing and read frames, each in its own unit of work as the socket's user."""
    database: Database = app.state.database

    async def on_frame(connection: Connection, data: dict[str, Any]) -> None:
        message = parse_frame(data)
        if isinstance(message, TypingFrame):
            last_typing: dict[uuid.UUID, float] = connection.state.setdefault("typing", {})
            now = time.monotonic()
            if now - last_typing.get(message.thread_id, 0.0) < TYPING_EVERY_SECONDS:
                return
            last_typing[message.thread_id] = now
        async with unit_of_work(database) as session:
            threads = ThreadController(session, principal_of(connection.grant))
            if isinstance(message, ReadFrame):
                await threads.mark_read(message.thread_id, ReadMarker(seq=message.seq))
            else:
                await _typing(threads, message.thread_id)

    return on_frame


async def _typing(threads: ThreadController, thread_id: uuid.UUID) -> None:
    thread = await threads.get(thread_id, options=())  # members only (404 otherwise)
    data = {"user_id": str(threads.me.id)}
    await threads.events.ephemeral(thread.id, events.TYPING, data, exclude=threads.me.id)


def resume_positions(connection: Connection) -> dict[uuid.UUID, int]:
    """The `{thread_id: last seq seen}` the ticket was asked for with."""
    raw = connection.grant.claims.get("resume") or {}
    return {uuid.UUID(str(k)): int(v) for k, v in dict(raw).items()}


def replayer(app: FastAPI) -> Replayer:
    """Sends a new socket the kept events after its resume positions, or a `reset` frame for a
    thread too far behind or whose missed events were purged by retention (reload it over
    REST, then continue from `seq`)."""
    database: Database = app.state.database
    limit: int = app.state.settings.realtime.replay_limit

    async def replay(connection: Connection) -> None:
        after = resume_positions(connection)
        async with unit_of_work(database) as session:
            found = await replay_frames(session, connection.grant.user_id, after, limit)
        for thread_id, current, start, rows in found:
            key = str(thread_id)
            if len(rows) > limit or events.is_gap(start, current, rows):
                await connection.send_now(frame("reset", thread_id=key, seq=current))
                connection.floors[key] = current
                continue
            for _, text in rows:
                await connection.send_now(text)
            connection.floors[key] = max([after[thread_id], *(seq for seq, _ in rows)])

    return replay


realtime = realtime_lifespan(
    on_frame=frame_handler,
    revalidate=lambda app: revalidator(app.state.database),
    replay=replayer,
)
"""The lifespan hook that runs the event stream (`main.create_app` adds it)."""
