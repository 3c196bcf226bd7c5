"""Bodies of two-factor enrolment, its management, and a sign-in's second step."""

from pydantic import BaseModel, ConfigDict, Field

from app.users.schemas import MAX_PASSWORD_INPUT
from core.fields import Text

CODE_FIELD = Field(
    min_length=6,
    max_length=64,
    description="A 6-digit code from the authenticator app, or an unused recovery code.",
    examples=["123456"],
)


class EnrolmentStart(BaseModel):
    """Start setting up an authenticator; the account's password proves it is its owner."""

    model_config = ConfigDict(extra="forbid")

    current_password: str | None = Field(
        default=None,
        max_length=MAX_PASSWORD_INPUT,
        description="Required when the account has a password (SSO-only accounts: a sign-in "
        "at most 10 minutes old instead).",
    )


class Enrolment(BaseModel):
    """The new authenticator's secret, shown this once: add it to an authenticator app (the URI
    as a QR code, or the secret typed in), then confirm with a first code."""

    secret: str = Field(description="Base32, for typing into the app.")
    provisioning_uri: str = Field(description="`otpauth://totp/...`, for a QR code.")


class CodeConfirm(BaseModel):
    """A fresh code (it is used up)."""

    model_config = ConfigDict(extra="forbid")

    code: Text = CODE_FIELD


class NewRecoveryCodes(BaseModel):
    """Single-use codes for when the authenticator is lost, shown this once: only their hashes
    are kept. Each signs in once in place of a code."""

    recovery_codes: list[str]


class TwoFactorStatus(BaseModel):
    """The account's second factor."""

    enabled: bool = Field(description="Sign-ins need a code.")
    pending: bool = Field(description="An enrolment waits for its first code.")
    required: bool = Field(
        description="The account holds a scope in AUTH_TOTP_REQUIRED_SCOPES: without the "
        "factor its tokens leave those scopes out."
    )
    recovery_codes_left: int


class MfaChallenge(BaseModel):
    """The second step of a sign-in, as the 401 `mfa-required` problem carries it."""

    mfa_token: str = Field(description="Single use; send it with a code to /auth/2fa/verify.")
    expires_in: int = Field(description="Seconds left to answer (AUTH_TOTP_CHALLENGE_SECONDS).")


class MfaVerify(BaseModel):
    """The answer to a sign-in's challenge."""

    model_config = ConfigDict(extra="forbid")

    mfa_token: Text = Field(min_length=1, max_length=200)
    code: Text = CODE_FIELD
