"""Request and response bodies of users and authentication, and the admin list's filters. None
of them carries a hash."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator
from pydantic.config import JsonDict

from app.users.models import User
from app.users.passwords import check_password_policy
from core.fields import Text
from core.filtering import Filter, FilterSet
from core.schemas import CreateSchema, ReadSchema, UpdateSchema
from core.security import Scope

MAX_PASSWORD_INPUT = 1024  # for `current_password`, which the policy does not check


def normalise_email(email: str) -> str:
    """Emails are stored and compared stripped and lower-cased."""
    return email.strip().lower()


Email = Annotated[EmailStr, AfterValidator(normalise_email)]
Password = Annotated[
    str,
    Field(description="8 to 128 characters (AUTH_PASSWORD_MIN_LENGTH/MAX_LENGTH)."),
    AfterValidator(check_password_policy),
]
FullName = Annotated[Text, Field(max_length=200)]

ADA: JsonDict = {
    "id": "0193a5c0-7b3a-7c4e-9a1b-2c3d4e5f6a7b",
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z",
    "email": "ada@example.com",
    "full_name": "Ada Lovelace",
    "scopes": ["regular"],
    "is_active": True,
    "email_verified": True,
}
"""The example user of the document."""


class UserRead(ReadSchema):
    """A user as anyone allowed to see it sees it."""

    model_config = ConfigDict(json_schema_extra={"examples": [ADA]})

    email: str
    full_name: str
    scopes: list[str]
    is_active: bool
    email_verified: bool


class UserAdminRead(UserRead):
    """A user as an admin sees it: with the soft-delete mark."""

    # (FastAPI drops nulls from the document, examples included: this one is deleted)
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**ADA, "deleted_at": "2026-02-01T08:00:00Z"}]}
    )

    deleted_at: datetime | None


class UserRegister(CreateSchema):
    """Self-registration: never carries scopes or flags (unknown fields are a 422)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": "analytical engine 1843",
                    "full_name": "Ada Lovelace",
                }
            ]
        }
    )

    email: Email
    password: Password
    full_name: FullName = ""


class SuperuserCreate(UserRegister):
    """A superuser made with the root token or the CLI."""


class MeUpdate(UpdateSchema):
    """Changes to one's own account; a new password needs the current one."""

    full_name: FullName | None = None
    password: Password | None = None
    current_password: str | None = Field(default=None, max_length=MAX_PASSWORD_INPUT)

    @model_validator(mode="after")
    def _password_needs_current(self) -> "MeUpdate":
        if self.password is not None and not self.current_password:
            raise ValueError("current_password is required to change the password")
        return self


class UserFilters(FilterSet):
    """`?email=` (substring, any case), `?is_active=`, `?deleted=` (soft-deleted users only)."""

    email: str | None = Filter(User.email, "contains", max_length=320)
    is_active: bool | None = Filter(User.is_active)
    deleted: bool | None = Filter(User.deleted_at, "is_not_null")

    def includes_deleted(self) -> bool:
        return self.deleted is not None


class UserAdminUpdate(UpdateSchema):
    """What an admin may change on any user."""

    full_name: FullName | None = None
    is_active: bool | None = None


class ScopesUpdate(BaseModel):
    """The scopes a superuser grants (replaces the current list)."""

    model_config = {"extra": "forbid"}

    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))


class RefreshRequest(BaseModel):
    """The refresh token to rotate."""

    model_config = {"extra": "forbid"}

    refresh_token: Text = Field(min_length=1, max_length=4096)


class TokenResponse(BaseModel):
    """The OAuth2 token response (RFC 6749 §5.1) plus the refresh token."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int
    scope: str


class MeUpdated(UserRead):
    """The updated account; `tokens` is a fresh pair when the password changed (the old
    tokens, this session's included, no longer work)."""

    tokens: TokenResponse | None = None


# -- account emails (verify, reset, change address) -------------------------------------------

EmailToken = Annotated[
    str, Field(min_length=1, max_length=200, description="The token from the emailed link.")
]


class EmailRequest(BaseModel):
    """An address to send a link to (a reset, or another verification link)."""

    model_config = {"extra": "forbid"}

    email: Email


class MailAccepted(BaseModel):
    """The answer to every request that may send mail: the same whether or not the address
    belongs to an account."""

    detail: str = "If the address belongs to an account, a message is on its way to it."


class TokenConfirm(BaseModel):
    """The token of an emailed link (verify the address, confirm an address change)."""

    model_config = {"extra": "forbid"}

    token: EmailToken


class PasswordResetConfirm(BaseModel):
    """A reset link's token and the new password."""

    model_config = {"extra": "forbid"}

    token: EmailToken
    password: Password


class EmailChangeRequest(BaseModel):
    """A new address for one's account (it applies once confirmed from that address)."""

    model_config = {"extra": "forbid"}

    email: Email
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)
