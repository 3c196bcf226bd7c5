"""Your own emails: a controller sends a templated message after its commit, a job renders it
and delivers it to a real SMTP server, retried when the server is down — on both legs."""

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from configs import Settings
from configs.app import AppSettings
from configs.email import EmailSettings
from core.platform.jobs import FailedJob, JobRegistry
from core.platform.jobs.metrics import JOB_RUNS
from core.platform.jobs.queue import JobQueue, set_current_queue
from core.platform.mail import Mailer
from core.service import unit_of_work
from tests.core.models import Widget, WidgetController, WidgetCreate
from tests.jobs_support import job_queue, job_settings, wait_until, working
from tests.smtp import SmtpServer, html_of, text_of

TEMPLATES = Path(__file__).parent / "templates" / "email"

mailer = Mailer(TEMPLATES, job="test.send_email", team="The widget team")
registry = JobRegistry()
registry.add(mailer.job)


class AnnouncingWidgetController(WidgetController):
    """A toy controller that tells someone about each widget it makes."""

    async def create_and_announce(self, data: WidgetCreate, to: str) -> Widget:
        widget = await self.create(data)
        context = {"name": widget.name, "size": widget.size}
        mailer.send_after_commit(self, to=to, template="widget_ready", context=context)
        return widget


def mail_settings(smtp: SmtpServer, **jobs: Any) -> Settings:
    """This leg's settings, sending to `smtp`, served on port 8091."""
    settings = job_settings(**jobs)
    email = EmailSettings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security="none",
        smtp_timeout_seconds=5,
        product_name="Acme",
    )
    app = settings.app.model_copy(update={"port": 8091})
    return dataclasses.replace(settings, email=email, app=app)


@asynccontextmanager
async def sending(
    database: Any, settings: Settings
) -> AsyncIterator[tuple[JobQueue, Callable[[], Awaitable[None]]]]:
    """The job queue of this leg, current (as in the app) and working."""
    async with job_queue(registry, database, settings) as queue, working(queue) as settle:
        set_current_queue(queue)
        try:
            yield queue, settle
        finally:
            set_current_queue(None)


async def announce(database: Any, name: str, to: str) -> None:
    async with unit_of_work(database) as session:
        controller = AnnouncingWidgetController(session, None)
        await controller.create_and_announce(WidgetCreate(name=name, size=3), to)


async def test_a_committed_send_reaches_the_smtp_server_rendered(
    smtp: SmtpServer, database: Any
) -> None:
    settings = mail_settings(smtp)
    async with sending(database, settings) as (_, settle):
        async with unit_of_work(database) as session:
            controller = AnnouncingWidgetController(session, None)
            await controller.create_and_announce(WidgetCreate(name="<b>gear</b>"), "ann@x.test")
            assert smtp.messages() == []  # not before the commit
        message = await smtp.wait_for_message("ann@x.test")
        await settle()
    assert message["Subject"] == "Widget <b>gear</b> is ready at Acme"
    assert message["From"] == settings.email.from_address
    text = text_of(message)
    assert "Your widget <b>gear</b> (size 0) is ready." in text
    assert "http://localhost:8091/widgets/<b>gear</b>" in text
    assert "-- The widget team" in text
    assert "<strong>&lt;b&gt;gear&lt;/b&gt;</strong>" in html_of(message)
    assert len(smtp.messages()) == 1


async def test_a_rolled_back_unit_sends_nothing(smtp: SmtpServer, database: Any) -> None:
    async with sending(database, mail_settings(smtp)) as (_, settle):
        with pytest.raises(RuntimeError):
            async with unit_of_work(database) as session:
                controller = AnnouncingWidgetController(session, None)
                await controller.create_and_announce(WidgetCreate(name="gone"), "lost@x.test")
                raise RuntimeError("the request failed")
        await announce(database, "kept", "kept@x.test")
        await smtp.wait_for_message("kept@x.test")
        await settle()
    assert smtp.messages("lost@x.test") == []
    async with database.session() as session:
        assert (await session.scalars(select(Widget.name))).all() == ["kept"]


async def test_a_transport_failure_is_retried_by_the_job(smtp: SmtpServer, database: Any) -> None:
    failures = JOB_RUNS.labels(job="test.send_email", outcome="error")
    before = failures._value.get()
    settings = mail_settings(
        smtp, max_attempts=20, retry_base_seconds=0.05, retry_max_seconds=0.2, timeout_seconds=5
    )
    async with sending(database, settings) as (_, settle):
        smtp.stop()
        await announce(database, "late", "late@x.test")

        async def failed_once() -> bool:
            return bool(failures._value.get() > before)

        await wait_until(failed_once)
        smtp.start()
        message = await smtp.wait_for_message("late@x.test")
        await settle()
    assert message["Subject"] == "Widget late is ready at Acme"
    assert len(smtp.messages("late@x.test")) == 1
    async with database.session() as session:
        assert (await session.scalars(select(FailedJob))).all() == []


async def test_a_redelivered_job_sends_once(smtp: SmtpServer, database: Any) -> None:
    kwargs = {"to": "once@x.test", "template": "widget_ready", "context": {"name": "a", "size": 1}}
    async with sending(database, mail_settings(smtp)) as (queue, _):
        for _ in range(2):  # the same message delivered twice (a worker died after sending)
            await queue.deliver(mailer.job, "task-1", {}, kwargs)
        await queue.deliver(mailer.job, "task-2", {}, kwargs)
    assert len(smtp.messages("once@x.test")) == 2


@pytest.mark.parametrize(
    ("to", "template", "context", "error"),
    [
        ("not an address", "widget_ready", {}, ValueError),
        ("a@x.test\r\nBcc: b@x.test", "widget_ready", {}, ValueError),
        ("a@x.test", "no_such_template", {}, ValueError),
        ("a@x.test", "widget_ready", {"when": object()}, TypeError),
    ],
)
async def test_a_bad_send_fails_inside_the_request(
    smtp: SmtpServer, database: Any, to: str, template: str, context: Any, error: type[Exception]
) -> None:
    async with sending(database, mail_settings(smtp)) as (_, settle):
        with pytest.raises(error):
            async with unit_of_work(database) as session:
                controller = WidgetController(session, None)
                mailer.send_after_commit(controller, to=to, template=template, context=context)
        await settle()
    assert smtp.messages() == []


async def test_a_mailer_whose_job_is_not_registered_fails_inside_the_request(
    smtp: SmtpServer, database: Any
) -> None:
    unregistered = Mailer(TEMPLATES, job="test.unregistered")
    async with sending(database, mail_settings(smtp)):
        with pytest.raises(KeyError, match="not in the job registry"):
            async with unit_of_work(database) as session:
                unregistered.send_after_commit(
                    WidgetController(session, None), to="a@x.test", template="widget_ready"
                )


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({"APP_PORT": "8091"}, "http://localhost:8091"),
        ({"APP_HOST": "::", "APP_PORT": "9000"}, "http://localhost:9000"),
        ({"APP_HOST": "127.0.0.1", "APP_PORT": "8091"}, "http://127.0.0.1:8091"),
        ({"APP_HOST": "::1"}, "http://[::1]:8080"),
        ({"APP_PORT": "8091", "EMAIL_BASE_URL": ""}, "http://localhost:8091"),
        ({"APP_PORT": "8091", "EMAIL_BASE_URL": "https://chat.example/"}, "https://chat.example"),
    ],
)
def test_links_follow_the_served_address_unless_email_base_url_is_set(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], url: str
) -> None:
    for name in ("APP_HOST", "APP_PORT", "EMAIL_BASE_URL", "ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = dataclasses.replace(
        job_settings(), app=AppSettings.load(), email=EmailSettings.load()
    )
    assert settings.email_base_url == url
