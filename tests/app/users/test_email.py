"""The email jobs on their own: a redelivered job neither mints a second token nor sends a
second message; lifetimes in words; every template renders both parts."""

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.users.email import TEMPLATES, expires_in, link_token
from app.users.jobs import jobs
from app.users.models import EmailToken, Purpose
from app.users.tokens import secret_hash
from configs.email import EmailSettings
from core.platform.mail import MailTemplates
from tests.helpers import create_user
from tests.jobs_support import job_queue, job_settings
from tests.smtp import SmtpServer, token_in


async def test_a_redelivered_job_reuses_its_token_and_sends_once(
    smtp: SmtpServer, database: Any
) -> None:
    await create_user(database, "alice@example.com")
    email = EmailSettings(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none")
    settings = dataclasses.replace(job_settings(), email=email)
    job = jobs.jobs["users.send_password_reset"]
    async with job_queue(jobs, database, settings) as queue:
        for _ in range(2):  # the same message delivered twice (a worker died after sending)
            await queue.deliver(job, "task-1", {}, {"email": "alice@example.com"})
        await queue.deliver(job, "task-2", {}, {"email": "alice@example.com"})
    first, second = smtp.messages("alice@example.com")
    async with database.session() as session:
        rows = (await session.scalars(select(EmailToken).order_by(EmailToken.created_at))).all()
    assert [row.token_hash for row in rows] == [
        secret_hash(token_in(first)),
        secret_hash(token_in(second)),
    ]
    assert rows[0].used_at is not None  # superseded by the second request
    assert rows[1].used_at is None
    assert token_in(first) == link_token(settings.secret_key, rows[0].id)


@pytest.mark.parametrize(
    ("minutes", "words"), [(30, "30 minutes"), (1, "1 minute"), (60, "1 hour"), (2880, "48 hours")]
)
def test_lifetimes_in_words(minutes: int, words: str) -> None:
    settings = dataclasses.replace(job_settings(), email=EmailSettings(reset_token_minutes=minutes))
    assert expires_in(settings, Purpose.RESET) == words


@pytest.mark.parametrize("name", ["verify", "reset", "change_confirm", "change_notice"])
def test_every_message_has_a_subject_text_and_html(name: str) -> None:
    templates = MailTemplates(Path(TEMPLATES), product="Acme <Chat>", base_url="https://x.test")
    user = {"email": "alice@example.com", "full_name": "<b>Alice</b>"}
    values = {
        "user": user,
        "link": "https://x.test/l?token=abc",
        "expires": "30 minutes",
        "new_email": "alice@new.test",
    }
    message = templates.render(
        name, values, sender="Acme <no-reply@x.test>", to="alice@example.com"
    )
    assert message["Subject"]
    assert "Acme <Chat>" in message["Subject"]
    assert message["Message-ID"].endswith("@x.test>")
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    assert "&lt;b&gt;Alice&lt;/b&gt;" in html.get_content()
    assert "<b>Alice</b>" in text.get_content()


async def test_purge_deletes_expired_and_long_used_email_tokens(database: Any) -> None:
    from datetime import timedelta

    from app.users.jobs import purge_email_tokens
    from core.db import utcnow
    from tests.jobs_support import working

    user = await create_user(database)
    now = utcnow()
    rows = {
        "expired": EmailToken(expires_at=now - timedelta(minutes=1)),
        "used long ago": EmailToken(
            expires_at=now + timedelta(hours=1), used_at=now - timedelta(days=2)
        ),
        "used just now": EmailToken(expires_at=now + timedelta(hours=1), used_at=now),
        "open": EmailToken(expires_at=now + timedelta(hours=1)),
    }
    for name, row in rows.items():
        row.user_id, row.purpose, row.token_hash = user.id, Purpose.RESET, secret_hash(name)
    async with database.session() as session:
        session.add_all(rows.values())
        await session.commit()
    async with job_queue(jobs, database) as queue, working(queue) as settle:
        await queue.enqueue(purge_email_tokens)
        await settle()
    async with database.session() as session:
        kept = set((await session.scalars(select(EmailToken.token_hash))).all())
    assert kept == {secret_hash("used just now"), secret_hash("open")}
