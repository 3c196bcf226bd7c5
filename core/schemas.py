"""Base classes for the `Create` / `Update` / `Read` schemas of an entity."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class CreateSchema(BaseModel):
    """Input for creating: unknown fields are a 422, so a client can never set what it may not."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UpdateSchema(BaseModel):
    """Input for partial updates: only the fields the client sent are applied."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadSchema(BaseModel):
    """Output built from a model instance."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
