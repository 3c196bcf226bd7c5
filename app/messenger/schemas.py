"""What clients send and receive. `author_id` / `created_by` are never inputs: always the caller."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.messenger.models import Message, Role
from core.fields import Position, Text, Timestamp
from core.filtering import Filter, FilterSet
from core.schemas import CreateSchema, ReadSchema, UpdateSchema

Title = Annotated[Text, Field(min_length=1, max_length=200)]
Body = Annotated[Text, Field(min_length=1, max_length=4000)]
UNREAD_CAP = 100
UserIds = Annotated[list[uuid.UUID], Field(max_length=100)]
THREAD_ID = "0193a5c1-1f2e-7d3c-8b4a-5e6f7a8b9c0d"
ADA_ID = "0193a5c0-7b3a-7c4e-9a1b-2c3d4e5f6a7b"
GRACE_ID = "0193a5c0-8c4b-7d5f-8a2c-3d4e5f6a7b8c"
MESSAGE: JsonDict = {
    "id": "0193a5c2-2a3b-7c4d-9e5f-6a7b8c9d0e1f",
    "created_at": "2026-01-05T10:02:00Z",
    "updated_at": "2026-01-05T10:02:00Z",
    "thread_id": THREAD_ID,
    "seq": 3,
    "author_id": ADA_ID,
    "body": "The engine is ready for the first program.",
    "edited_at": "2026-01-05T10:04:00Z",  # FastAPI drops nulls from the document's examples
}


class ThreadCreate(CreateSchema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "Launch plan", "participant_ids": [GRACE_ID]}]}
    )

    title: Title
    participant_ids: UserIds = Field(
        default_factory=list,
        description="Other users to include; the creator is always a participant.",
    )


class ThreadUpdate(UpdateSchema):
    title: Title


class ParticipantsAdd(CreateSchema):
    user_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)]


class ParticipantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    full_name: str
    role: Role
    joined_at: datetime
    last_read_seq: int = Field(description="The seq of the last message this participant read.")


class ThreadRead(ReadSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": THREAD_ID,
                    "created_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-01-05T10:02:00Z",
                    "title": "Launch plan",
                    "created_by": ADA_ID,
                    "last_message_at": "2026-01-05T10:02:00Z",
                    "last_activity_at": "2026-01-05T10:02:00Z",
                    "event_seq": 3,
                    "unread_count": 0,
                    "participants": [
                        {
                            "user_id": ADA_ID,
                            "full_name": "Ada Lovelace",
                            "role": "creator",
                            "joined_at": "2026-01-05T10:00:00Z",
                            "last_read_seq": 3,
                        },
                        {
                            "user_id": GRACE_ID,
                            "full_name": "Grace Hopper",
                            "role": "member",
                            "joined_at": "2026-01-05T10:00:00Z",
                            "last_read_seq": 1,
                        },
                    ],
                }
            ]
        }
    )

    title: str
    created_by: uuid.UUID
    last_message_at: datetime | None
    last_activity_at: datetime = Field(description="Creation time, then the newest message's.")
    event_seq: int = Field(description="The id (`seq`) of the thread's latest event.")
    unread_count: int = Field(
        default=0,
        description=f"Messages after your read marker, counted up to {UNREAD_CAP} "
        f"({UNREAD_CAP} means {UNREAD_CAP} or more).",
    )
    participants: list[ParticipantRead]


class ReadMarker(CreateSchema):
    seq: Position | None = Field(
        default=None,
        description="The seq of the last message read; omitted: everything up to now.",
    )


class EventPage(BaseModel):
    items: list[dict[str, Any]] = Field(description="Events exactly as the socket sent them.")
    has_more: bool = Field(description="More events follow: ask again after the last seq.")
    event_seq: int = Field(description="The thread's latest event id now.")


class ReadState(BaseModel):
    thread_id: uuid.UUID
    last_read_seq: int
    unread_count: int


class MessageCreate(CreateSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"body": MESSAGE["body"]}]})

    body: Body


class MessageUpdate(UpdateSchema):
    body: Body


class MessageRead(ReadSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [MESSAGE]})

    thread_id: uuid.UUID
    seq: int | None = Field(description="The id of its `message.created` event in the thread.")
    author_id: uuid.UUID
    body: str
    edited_at: datetime | None


class MessageFilters(FilterSet):
    since: Timestamp | None = Filter(
        Message.created_at,
        ">=",
        description="Only messages created at or after this time (with a time zone).",
    )
