"""What a client may send on the event-stream socket besides `ping`: frame types declared by the
domains, each with its pydantic model and its handler, once at import time (like stream kinds).

    class TypingFrame(BaseModel):
        thread_id: uuid.UUID

    @client_frame("typing", TypingFrame)
    async def on_typing(socket: Connection, frame: TypingFrame) -> None:
        database: Database = socket.app.state.database
        async with unit_of_work(database) as session:
            ...  # as the socket's user: socket.grant

`{"type": "typing", "thread_id": "…"}` from a client is validated with the model and handed to
the handler. A frame of no declared type, or one its model refuses, is answered with an `error`
frame (422, each bad field named under `["frame", <type>, …]`); so is any `AppError` the
handler raises (a 404 for a thread the user is not in). The socket stays open either way.
The hub dispatches through `dispatch_frame` unless its lifespan is given another `on_frame`.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import InvalidInput, field_error
from core.platform.realtime.connection import Connection

FrameT = TypeVar("FrameT", bound=BaseModel)
ClientFrameHandler = Callable[[Connection, FrameT], Awaitable[None]]
"""Handles one validated client frame on `connection` (its user: `connection.grant`)."""

RESERVED = frozenset({"ping"})
"""Frame types the hub answers itself."""

_frames: dict[str, tuple[type[BaseModel], ClientFrameHandler[Any]]] = {}


def client_frame(
    type_: str, model: type[FrameT]
) -> Callable[[ClientFrameHandler[FrameT]], ClientFrameHandler[FrameT]]:
    """Declare the client frame `{"type": type_, …}`: validated with `model` (its `type` field,
    if it declares one, sees `type_`), then handed to the decorated handler. A type declared
    twice, or `ping`, is an error at import time."""
    if type_ in RESERVED or type_ in _frames:
        raise ValueError(f"the client frame type {type_!r} is reserved or declared twice")

    def declare(handler: ClientFrameHandler[FrameT]) -> ClientFrameHandler[FrameT]:
        _frames[type_] = (model, handler)
        return handler

    return declare


def client_frame_types() -> list[str]:
    """The declared client frame types (besides `ping`), sorted."""
    return sorted(_frames)


def parse_client_frame(data: dict[str, Any]) -> tuple[BaseModel, ClientFrameHandler[Any]]:
    """The frame `data` (a JSON object with a string `type`) validated by its declared model,
    and its handler; an `InvalidInput` (422) naming what is wrong otherwise."""
    type_ = data["type"]
    declared = _frames.get(type_)
    if declared is None:
        known = ", ".join(repr(t) for t in sorted({*RESERVED, *_frames}))
        error = field_error(["frame", "type"], f"Unknown frame type {type_!r}: one of {known}.")
        raise InvalidInput("The frame is not valid.", errors=[error])
    model, handler = declared
    try:
        return model.model_validate(data), handler
    except ValidationError as exc:
        errors = [
            field_error(["frame", type_, *e["loc"]], e["msg"], e["type"]) for e in exc.errors()
        ]
        raise InvalidInput("The frame is not valid.", errors=errors) from exc


async def dispatch_frame(connection: Connection, data: dict[str, Any]) -> None:
    """The hub's default `on_frame`: the declared handler of the frame's type, given the frame
    validated by its model."""
    frame, handler = parse_client_frame(data)
    await handler(connection, frame)
