"""`Mailer`: templated emails sent by a job once the unit of work commits.

    mailer = Mailer(Path(__file__).parent / "templates" / "email", job="projects.send_email")
    jobs.add(mailer.job)  # the domain's JobRegistry, included in app/jobs.py

    mailer.send_after_commit(self, to=owner.email, template="project_archived",
                             context={"project": project.name})

The request only enqueues (after its commit; nothing on a rollback). The job renders the
templates and sends through the configured transport, retried like any job and sent once per
job run. A job that must compute what it sends (a token, say) calls `deliver` itself.
"""

import json
import logging
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from configs import Settings
from core.platform.jobs.lifespan import CommitHooks, InUnitOfWork, enqueue_after_commit
from core.platform.jobs.registry import Job, JobContext
from core.platform.mail.templates import MailTemplates
from core.platform.mail.transport import mail_transport

logger = logging.getLogger("plinth.mail")


class Mailer:
    """The messages of one templates folder and the job that sends them.

    A message `<name>` is `<name>.txt` (required; it sets the subject with
    `{% set subject = "..." %}`) and `<name>.html` (optional, autoescaped). Every template
    sees `product` (EMAIL_PRODUCT_NAME), `base_url` (`Settings.email_base_url`, for links),
    the `globals` given here, and the message's context. Register `job` in the project's job
    registry, so the worker can run it; `max_attempts` overrides JOBS_MAX_ATTEMPTS.
    """

    def __init__(
        self,
        directory: Path,
        *,
        job: str = "mail.send",
        max_attempts: int | None = None,
        **globals: Any,
    ) -> None:
        self.templates = MailTemplates(directory, **globals)
        self.job = Job(job, self._run, max_attempts=max_attempts)

    def send_after_commit(
        self,
        owner: CommitHooks | InUnitOfWork,
        *,
        to: str,
        template: str,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Send the message `template` to `to` once `owner`'s unit of work commits (`owner`:
        a controller or service, i.e. `self`, or a `UnitOfWork`); nothing if it rolls back.

        `context` travels through the job queue, so it holds JSON values (format dates and
        amounts before). A bad address, a missing template or a context that cannot travel
        raises here, in the request, not later in the job.
        """
        values = dict(context or {})
        _check_address(to)
        if not self.templates.exists(template):
            raise ValueError(f"no email template {template!r} ({template}.txt)")
        try:
            json.dumps(values)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the context of {template!r} must be JSON values: {exc}") from exc
        enqueue_after_commit(owner, self.job, to=to, template=template, context=values)

    def render(
        self,
        settings: Settings,
        *,
        to: str,
        template: str,
        context: Mapping[str, Any] | None = None,
    ) -> EmailMessage:
        """The message `template` for `to`, from EMAIL_FROM_ADDRESS, ready to send."""
        values = {
            "product": settings.email.product_name,
            "base_url": settings.email_base_url,
            **(context or {}),
        }
        sender = settings.email.from_address
        return self.templates.render(template, values, sender=sender, to=to)

    async def deliver(
        self,
        ctx: JobContext,
        *,
        to: str,
        template: str,
        context: Mapping[str, Any] | None = None,
    ) -> EmailMessage | None:
        """Render and send now, from inside a job: once per job run (a retry after a failed
        send sends; a redelivery after a successful one does not, and returns None). A
        failure raises, so the job is retried."""
        key = f"sent:{ctx.task_id}:{template}:{to}"
        if not await ctx.once(key):
            logger.info("%s (%s): %s to %s already sent", ctx.job, ctx.task_id, template, to)
            return None
        _warn_if_unfit_for_production(ctx)
        try:
            message = self.render(ctx.settings, to=to, template=template, context=context)
            await mail_transport(ctx.settings.email, ctx.settings.app.data_dir).send(message)
        except BaseException:
            await ctx.undo(key)
            raise
        return message

    async def _run(
        self, ctx: JobContext, *, to: str, template: str, context: dict[str, Any]
    ) -> None:
        await self.deliver(ctx, to=to, template=template, context=context)


def _check_address(to: str) -> None:
    _, address = parseaddr(to)
    if "@" not in address or any(char in to for char in "\r\n"):
        raise ValueError(f"not an email address: {to!r}")


def _warn_if_unfit_for_production(ctx: JobContext) -> None:
    settings = ctx.settings
    if not settings.app.is_production:
        return
    if not settings.email.uses_smtp:
        logger.warning("EMAIL_SMTP_HOST is not set: %s goes to the outbox folder", ctx.job)
    if settings.email.base_url is None:
        logger.warning("EMAIL_BASE_URL is not set: links point at %s", settings.email_base_url)
