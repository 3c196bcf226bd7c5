"""The app's event stream (docs/reference/websocket.md, docs/realtime.md): the hub's lifespan,
with the checks that end sockets whose login ended (the users') or whose API key did (the
keys'). Its tickets, socket and gap-fill route are routers/realtime.py; the frames a client may
send are declared by the domains (`client_frame`, e.g. app/messenger/realtime.py), their streams
by `StreamKind`."""

from collections.abc import Sequence

from fastapi import FastAPI

from app.api_keys.realtime import key_revalidator
from app.users.realtime import revalidator
from core.platform.realtime import Grant, Revalidator, realtime_lifespan


def every_check(*checks: Revalidator) -> Revalidator:
    """A `Revalidator` under which a grant holds when it holds under each of `checks`."""

    async def revalidate(grants: Sequence[Grant]) -> list[bool]:
        valid = [True] * len(grants)
        for check in checks:
            valid = [a and b for a, b in zip(valid, await check(grants), strict=True)]
        return valid

    return revalidate


def _checks(app: FastAPI) -> Revalidator:
    database = app.state.database
    return every_check(revalidator(database), key_revalidator(database))


realtime = realtime_lifespan(revalidate=_checks)
"""The lifespan hook that runs the event stream (`main.create_app` adds it)."""
