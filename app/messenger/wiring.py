"""How the messenger example plugs into the app (app/domains.py): its models, its client frames
on the event stream and a paragraph of the API description. Its routes are in
routers/messenger.py. A project made from the template without the example has neither file."""

from app.domains import Wiring
from app.messenger.events import THREADS
from app.messenger.models import Message, MessageAttachment, Thread, ThreadParticipant
from app.messenger.realtime import on_read, on_typing

MODELS = (Message, MessageAttachment, Thread, ThreadParticipant)
"""Imported here so Alembic and the app see them (app/models.py lists the others)."""
STREAMS = (THREADS,)
CLIENT_FRAMES = (on_typing, on_read)
"""Imported here so every process that serves the event stream knows them."""

DESCRIPTION = """
The messenger example: threads, their participants and messages.
"""

WIRING = Wiring(description=DESCRIPTION)
