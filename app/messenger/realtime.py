"""What a socket may send about threads (typing, read markers), declared on the event stream
of every app (`client_frame`). What a resumed socket missed is the core streams' replay
(`THREADS`, app/messenger/events.py)."""

import time
import uuid

from pydantic import BaseModel

from app.messenger.controller import ThreadController
from app.messenger.schemas import ReadMarker
from app.users.realtime import principal_of
from core.db import Database
from core.fields import Position
from core.platform.realtime import Connection, client_frame
from core.service import unit_of_work

TYPING_EVERY_SECONDS = 2.0
"""A socket's typing frames are forwarded at most this often, whatever thread they name: a
client cycling through thread ids (known or not) costs one lookup per period, not one each."""


class TypingFrame(BaseModel):
    """`{"type": "typing", "thread_id"}`: the members see `typing` (404 for a non-member)."""

    thread_id: uuid.UUID


class ReadFrame(BaseModel):
    """`{"type": "read", "thread_id", "seq"?}`: as `POST /threads/{id}/read`."""

    thread_id: uuid.UUID
    seq: Position | None = None


@client_frame("typing", TypingFrame)
async def on_typing(socket: Connection, frame: TypingFrame) -> None:
    """Tell the thread's other members, at most every `TYPING_EVERY_SECONDS` per socket (the
    frames in between are dropped unanswered)."""
    now = time.monotonic()
    if now - socket.state.get("typing_at", float("-inf")) < TYPING_EVERY_SECONDS:
        return
    socket.state["typing_at"] = now
    database: Database = socket.app.state.database
    async with unit_of_work(database) as session:
        threads = ThreadController(session, principal_of(socket.grant))
        await threads.announce_typing(frame.thread_id)


@client_frame("read", ReadFrame)
async def on_read(socket: Connection, frame: ReadFrame) -> None:
    """Move the socket's user's read marker of the thread."""
    database: Database = socket.app.state.database
    async with unit_of_work(database) as session:
        threads = ThreadController(session, principal_of(socket.grant))
        await threads.mark_read(frame.thread_id, ReadMarker(seq=frame.seq))
