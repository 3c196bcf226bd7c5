"""Request and response bodies of single sign-on and linked identities."""

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from core.schemas import CreateSchema, ReadSchema, UpdateSchema


class IdentityRead(ReadSchema):
    """A linked identity as its owner sees it."""

    provider: str
    subject: str
    email: str | None
    last_login_at: datetime | None


class IdentityCreate(CreateSchema):
    """Never sent by clients: identities are made by the SSO callback only."""


class IdentityUpdate(UpdateSchema):
    """Identities are not edited."""


class ProviderRead(BaseModel):
    """A provider users can sign in with."""

    name: str
    display_name: str
    authorize_url: str


class ExchangeRequest(BaseModel):
    """The one-time code the callback sent to the frontend."""

    model_config = {"extra": "forbid"}

    code: str = Field(min_length=1, max_length=200)


class LinkRequest(BaseModel):
    """Where the browser returns once the provider account is linked (allowlisted)."""

    model_config = {"extra": "forbid"}

    return_to: str | None = Field(default=None, max_length=2000)


class LinkStart(BaseModel):
    """Open `authorize_url` in the browser (it holds a one-time ticket, valid 60 s)."""

    authorize_url: str


@dataclass(frozen=True)
class Redirect:
    """Where the callback sends the browser."""

    url: str
