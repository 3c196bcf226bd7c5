"""Messages rendered from Jinja2 templates: `<name>.txt` (required; it sets the subject with
`{% set subject = "..." %}`) and `<name>.html` (optional, autoescaped)."""

from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import jinja2


class MailTemplates:
    """Renders messages from a folder of templates; `globals` are visible in every template."""

    def __init__(self, directory: Path, **globals: Any) -> None:
        loader = jinja2.FileSystemLoader(directory)
        self.text = jinja2.Environment(
            loader=loader,
            autoescape=False,  # noqa: S701 - the plain-text part: no HTML to escape
            undefined=jinja2.StrictUndefined,
        )
        self.html = jinja2.Environment(
            loader=loader, autoescape=True, undefined=jinja2.StrictUndefined
        )
        self.text.globals.update(globals)
        self.html.globals.update(globals)

    def exists(self, name: str) -> bool:
        """Whether the message `name` is here (its `<name>.txt`)."""
        try:
            self.text.get_template(f"{name}.txt")
        except jinja2.TemplateNotFound:
            return False
        return True

    def render(self, name: str, values: Mapping[str, Any], *, sender: str, to: str) -> EmailMessage:
        """The message `name` for `to`, with `values` in its templates. The subject is made one
        line (a value with a line break cannot split the header)."""
        module = self.text.get_template(f"{name}.txt").make_module(dict(values))
        subject = " ".join(str(getattr(module, "subject", "")).split())
        if not subject:
            raise ValueError(f"{name}.txt sets no subject")
        message = EmailMessage()
        message["From"] = sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=_domain(sender))
        message.set_content(str(module))
        html = self._html(name, values)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    def _html(self, name: str, values: Mapping[str, Any]) -> str | None:
        try:
            template = self.html.get_template(f"{name}.html")
        except jinja2.TemplateNotFound:
            return None
        return template.render(values)


def _domain(address: str) -> str:
    _, email = parseaddr(address)
    return email.rpartition("@")[2] or "localhost"
