"""The messenger on the event stream: what a socket may send (typing, read markers). What a
resumed socket missed is the core streams' replay (`THREADS`, app/messenger/events.py)."""

import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from app.messenger.controller import ThreadController
from app.messenger.schemas import ReadMarker
from app.users.realtime import principal_of, revalidator
from core.db import Database
from core.errors import InvalidInput, field_error
from core.platform.realtime import Connection, FrameHandler, realtime_lifespan
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
                await threads.announce_typing(message.thread_id)

    return on_frame


realtime = realtime_lifespan(
    on_frame=frame_handler,
    revalidate=lambda app: revalidator(app.state.database),
)
"""The lifespan hook that runs the event stream (`main.create_app` adds it)."""
