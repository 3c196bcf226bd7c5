"""EMAIL_* variables: how account emails are sent, what they say and link to, and how long their
links work."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from configs.base import PlinthSettings

SmtpSecurity = Literal["starttls", "tls", "none"]


class EmailSettings(PlinthSettings):
    """Account emails (verify, reset, change address), sent from a job.

    `backend=auto` sends through SMTP when EMAIL_SMTP_HOST is set, else writes one `.eml` file
    per message to the outbox folder and logs the link (the embedded default). Links are
    `base_url` + a path + `?token=...`: the defaults open the small pages this API serves under
    /account; a frontend of your own sets its URL and paths. Without EMAIL_BASE_URL, links point
    at this server's own address (`Settings.email_base_url`: APP_HOST and APP_PORT).
    """

    model_config = SettingsConfigDict(env_prefix="EMAIL_")

    backend: Literal["auto", "smtp", "outbox"] = "auto"
    from_address: str = "Plinth <no-reply@localhost>"
    product_name: str = "Plinth"
    base_url: str | None = None
    verify_path: str = "/account/verify-email"
    reset_path: str = "/account/reset-password"
    change_path: str = "/account/confirm-email"
    verify_token_minutes: int = Field(default=2880, ge=1)
    reset_token_minutes: int = Field(default=30, ge=1)
    change_token_minutes: int = Field(default=1440, ge=1)
    outbox_dir: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: SmtpSecurity = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_validate_certs: bool = True
    smtp_ca_file: Path | None = None

    @field_validator(
        "base_url",
        "outbox_dir",
        "smtp_host",
        "smtp_username",
        "smtp_password",
        "smtp_ca_file",
        mode="before",
    )
    @classmethod
    def empty_is_unset(cls, value: object) -> object:
        """`EMAIL_SMTP_HOST=` (empty) means unset, not a path or host named ``."""
        return None if value == "" else value

    @field_validator("base_url")
    @classmethod
    def no_trailing_slash(cls, value: str | None) -> str | None:
        """`https://app.example.com/` and `https://app.example.com` are the same base."""
        return value.rstrip("/") if value is not None else None

    @property
    def uses_smtp(self) -> bool:
        """True when mail goes to an SMTP server rather than the outbox folder."""
        return self.backend == "smtp" or (self.backend == "auto" and bool(self.smtp_host))

    def outbox(self, data_dir: Path) -> Path:
        """The outbox folder: EMAIL_OUTBOX_DIR, else `outbox/` in the data directory."""
        return self.outbox_dir or data_dir / "outbox"
