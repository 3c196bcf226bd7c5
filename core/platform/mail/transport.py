"""The transports that deliver a message: SMTP (aiosmtplib, STARTTLS or TLS) or an outbox
folder of `.eml` files; `mail_transport(settings)` picks the configured one."""

import asyncio
import logging
import os
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from configs.email import EmailSettings

logger = logging.getLogger("plinth.mail")


class MailTransport(Protocol):
    """Delivers a message; raises when it could not (the job retries)."""

    async def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    """Sends through an SMTP server: `starttls` (upgrade a plain connection, usually port 587;
    refused if the server cannot), `tls` (implicit TLS, usually 465) or `none` (loopback and
    tests only). Certificates are verified unless EMAIL_SMTP_VALIDATE_CERTS=false."""

    def __init__(self, settings: EmailSettings) -> None:
        if not settings.smtp_host:
            raise ValueError("EMAIL_SMTP_HOST is not set")
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        """One connection per message: connect, secure, authenticate, send, quit."""
        import aiosmtplib  # here, not at the top: API processes only enqueue the job that sends

        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=password,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            validate_certs=settings.smtp_validate_certs,
            cert_bundle=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
            timeout=settings.smtp_timeout_seconds,
        )


class OutboxTransport:
    """Writes each message to `directory` as one `.eml` file (open it with any mail client):
    the embedded default, so development needs no SMTP server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        """Write the message atomically (a temporary name, then renamed)."""
        path = await asyncio.to_thread(self._write, message.as_bytes())
        logger.info("mail to %s written to %s", message["To"], path)

    def _write(self, data: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")  # sorts oldest first
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        partial = path.with_suffix(".tmp")
        partial.write_bytes(data)
        os.replace(partial, path)
        return path


def mail_transport(settings: EmailSettings, data_dir: Path) -> MailTransport:
    """SMTP when configured (EMAIL_BACKEND, EMAIL_SMTP_HOST), else the outbox folder."""
    if settings.uses_smtp:
        return SmtpTransport(settings)
    return OutboxTransport(settings.outbox(data_dir))
