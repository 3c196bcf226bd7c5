"""The app with its mail going to the test SMTP server, and its jobs running in this process
(in-process on the embedded leg, a worker on the Redis stream on the services leg)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tests.app.users.support import API
from tests.conftest import client_for, running_app
from tests.helpers import DEFAULT_PASSWORD
from tests.jobs_support import working
from tests.smtp import SmtpServer


@dataclass
class MailApp:
    """The running app, a client for it, and `settle()`: wait until no job is left."""

    app: FastAPI
    client: httpx.AsyncClient
    settle: Callable[[], Awaitable[None]]


@asynccontextmanager
async def mail_app(smtp: SmtpServer | None, **env: str) -> AsyncIterator[MailApp]:
    """The app sending to `smtp` (or, with None, to its outbox), with fast job retries."""
    settings = {"JOBS_RETRY_BASE_SECONDS": "0.05", "JOBS_RETRY_MAX_SECONDS": "0.5"}
    settings |= smtp.env() if smtp is not None else {}
    async with (
        running_app(**(settings | env)) as app,
        working(app.state.jobs) as settle,
        client_for(app) as client,
    ):
        yield MailApp(app, client, settle)


async def register(client: httpx.AsyncClient, email: str = "alice@example.com") -> Any:
    """Register through the API; the verification email is on its way."""
    body = {"email": email, "password": DEFAULT_PASSWORD, "full_name": "Alice"}
    response = await client.post(f"{API}/auth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()
