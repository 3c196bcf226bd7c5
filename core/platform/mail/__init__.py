"""Email: templated messages sent from a job after the commit, through one transport.

    mailer      Mailer: send_after_commit (controllers, services), deliver (inside a job)
    templates   MailTemplates: <name>.txt (sets the subject) + optional <name>.html, Jinja2
    transport   SmtpTransport, OutboxTransport, mail_transport(settings): the configured one

How to send your own: docs/emails.md.
"""

from core.platform.mail.mailer import Mailer
from core.platform.mail.templates import MailTemplates
from core.platform.mail.transport import (
    MailTransport,
    OutboxTransport,
    SmtpTransport,
    mail_transport,
)

__all__ = [
    "MailTemplates",
    "MailTransport",
    "Mailer",
    "OutboxTransport",
    "SmtpTransport",
    "mail_transport",
]
