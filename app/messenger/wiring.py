"""How the messenger example plugs into the app (app/domains.py): its models, the event
stream's lifespan and a paragraph of the API description. Its routes are in
routers/messenger.py. A project made from the template without the example has neither file."""

from app.domains import Wiring
from app.messenger.models import Message, Thread, ThreadParticipant
from app.messenger.realtime import realtime

MODELS = (Message, Thread, ThreadParticipant)
"""Imported here so Alembic and the app see them (app/models.py lists the others)."""

DESCRIPTION = """
The messenger example: threads, their participants and messages.

**Real-time events** (a WebSocket, which Swagger cannot show): get a ticket with
`POST /api/v1/realtime/tickets`, then open `/api/v1/realtime/ws` — the protocol, close codes and
a browser client are in the README:
[Real-time events](https://github.com/plinth-dev/plinth#real-time-events).
"""

WIRING = Wiring(lifespans=(realtime,), description=DESCRIPTION)
