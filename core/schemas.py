"""Base classes for the `Create` / `Update` / `Read` schemas of an entity."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from core.fields import refuse_unstorable


class InputSchema(BaseModel):
    """Base of request bodies: unknown fields are a 422, text is stripped, and text with a NUL
    character (which PostgreSQL cannot store) or an integer beyond 64 bits is a 422 naming the
    field, in every field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_unstorable(cls, value: Any) -> Any:
        return refuse_unstorable(value)


class CreateSchema(InputSchema):
    """Input for creating: unknown fields are a 422, so a client can never set what it may not."""


class UpdateSchema(InputSchema):
    """Input for partial updates: only the fields the client sent are applied."""


class ReadSchema(BaseModel):
    """Output built from a model instance."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
