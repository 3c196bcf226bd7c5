"""Client frames a domain declares (`client_frame`): each type once, and `ping` stays the hub's;
dispatching them over a socket is tests/realtime/test_own_streams.py."""

import uuid

import pytest
from pydantic import BaseModel

from core.errors import InvalidInput
from core.platform.realtime import Connection, client_frame, client_frame_types
from core.platform.realtime.frames import parse_client_frame


class Nudge(BaseModel):
    user_id: uuid.UUID


@client_frame("test_frames.nudge", Nudge)
async def on_nudge(socket: Connection, frame: Nudge) -> None:
    return None


def test_a_type_is_declared_once_and_ping_is_the_hubs() -> None:
    assert "test_frames.nudge" in client_frame_types()
    for taken in ("test_frames.nudge", "ping"):
        with pytest.raises(ValueError, match="reserved or declared twice"):
            client_frame(taken, Nudge)


def test_a_frame_is_validated_by_its_types_model() -> None:
    user = uuid.uuid4()
    frame, handler = parse_client_frame({"type": "test_frames.nudge", "user_id": str(user)})
    assert frame == Nudge(user_id=user) and handler is on_nudge
    with pytest.raises(InvalidInput) as refused:
        parse_client_frame({"type": "test_frames.nudge", "user_id": "me"})
    assert [e["loc"] for e in refused.value.errors] == [["frame", "test_frames.nudge", "user_id"]]
