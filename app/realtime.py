"""The app's event stream (docs/reference/websocket.md, docs/realtime.md): the hub's lifespan,
with the users' check that ends sockets whose login ended. Its tickets, socket and gap-fill
route are routers/realtime.py; the frames a client may send are declared by the domains
(`client_frame`, e.g. app/messenger/realtime.py), their streams by `StreamKind`."""

from app.users.realtime import revalidator
from core.platform.realtime import realtime_lifespan

realtime = realtime_lifespan(revalidate=lambda app: revalidator(app.state.database))
"""The lifespan hook that runs the event stream (`main.create_app` adds it)."""
