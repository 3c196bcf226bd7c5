"""How the messenger example plugs into the app (app/domains.py): its models, its client frames
on the event stream, what it does when an organization's membership ends (`MEMBERS.on_removed`)
and a paragraph of the API description. Its routes are in
routers/messenger.py. A project made from the template without the example has neither file."""

import uuid

from app.domains import Wiring
from app.messenger.controller import ThreadController
from app.messenger.events import THREADS
from app.messenger.models import Message, MessageAttachment, Thread, ThreadParticipant
from app.messenger.realtime import on_read, on_typing
from app.organizations.tenancy import MEMBERS
from core.service import SessionBound, UnitOfWork

MODELS = (Message, MessageAttachment, Thread, ThreadParticipant)
"""Imported here so Alembic and the app see them (app/models.py lists the others)."""
STREAMS = (THREADS,)
CLIENT_FRAMES = (on_typing, on_read)
"""Imported here so every process that serves the event stream knows them."""


@MEMBERS.on_removed
async def leave_organization_threads(
    owner: SessionBound, organization_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """A member who leaves an organization (or is removed) leaves its threads at once."""
    threads = UnitOfWork.of(owner.session).bound(ThreadController, owner.principal)
    await threads.remove_organization_member(organization_id, user_id)


DESCRIPTION = """
The messenger example: threads, their participants and messages.
"""

WIRING = Wiring(description=DESCRIPTION)
