"""A real SMTP server on loopback for the email tests (aiosmtpd, in a thread of its own).

    server = SmtpServer()          # a free port on 127.0.0.1
    server.start()
    message = await server.wait_for_message(to="alice@example.com")
    server.stop()                  # the port refuses connections until start() again

Messages are parsed into `email.message.EmailMessage`; `link_in(message)` finds the link.
With `tls=True` the server offers STARTTLS with a self-signed certificate made by openssl
(`server.ca_file`) and refuses mail without it.
"""

import asyncio
import email.policy
import re
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
LINK = re.compile(r"https?://\S+?\?token=[A-Za-z0-9_-]+")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (openssl, 1 day)."""
    cert, key = directory / "smtp.crt", directory / "smtp.key"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


class Inbox:
    """The aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        data = envelope.content if isinstance(envelope.content, bytes) else b""
        message = BytesParser(policy=email.policy.default).parsebytes(data)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a fixed loopback port that can be stopped and started again."""

    def __init__(self, *, tls: bool = False) -> None:
        self.port = _free_port()
        self.inbox = Inbox()
        self.ca_file: Path | None = None
        self._tls: ssl.SSLContext | None = None
        if tls:
            cert, key = self_signed_certificate(Path(tempfile.mkdtemp(prefix="plinth-smtp-")))
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(cert, key)
            self.ca_file = cert
        self._controller: Controller | None = None

    def env(self, **extra: str) -> dict[str, str]:
        """EMAIL_* settings that send to this server."""
        security = "starttls" if self._tls else "none"
        values = {"EMAIL_SMTP_HOST": HOST, "EMAIL_SMTP_PORT": str(self.port)}
        values |= {"EMAIL_SMTP_SECURITY": security, "EMAIL_SMTP_TIMEOUT_SECONDS": "5"}
        if self.ca_file:
            values["EMAIL_SMTP_CA_FILE"] = str(self.ca_file)
        return values | extra

    def start(self) -> None:
        """Listen (again) on `port`."""
        kwargs: dict[str, Any] = {}
        if self._tls is not None:
            kwargs = {"tls_context": self._tls, "require_starttls": True}
        controller = Controller(self.inbox, hostname=HOST, port=self.port, **kwargs)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the port: connections are refused until `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self.inbox.lock:
            self.inbox.messages.clear()

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        """The messages received so far (to `to` only, when given)."""
        with self.inbox.lock:
            found = list(self.inbox.messages)
        return [m for m in found if to is None or m["To"] == to]

    async def wait_for_message(
        self, to: str, count: int = 1, seconds: float = 30.0
    ) -> EmailMessage:
        """The `count`-th message to `to`, polling until it arrives (bounded)."""
        deadline = time.monotonic() + seconds
        while len(found := self.messages(to)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no message {count} to {to} within {seconds}s")
            await asyncio.sleep(0.02)
        return found[count - 1]


def text_of(message: EmailMessage) -> str:
    """The plain-text part."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    """The HTML part."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage) -> str:
    """The one link with a token in the plain-text part."""
    links: set[str] = set(LINK.findall(text_of(message)))
    assert len(links) == 1, links
    return links.pop()


def token_in(message: EmailMessage) -> str:
    """The token of the message's link."""
    return link_in(message).rpartition("?token=")[2]
