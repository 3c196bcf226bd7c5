"""The messenger example's routes (threads, messages, the event stream), included by
`routers.include_routes` when the project has the example (app/domains.py)."""

from fastapi import FastAPI

from core.versioning import ApiVersion
from routers import events, messages, threads
from routers.gates import gates


def include_routes(api: ApiVersion) -> None:
    """Its routers, each with its gate."""
    api.include_router(threads.router, dependencies=gates.AUTHENTICATED)
    api.include_router(messages.thread_messages, dependencies=gates.AUTHENTICATED)
    api.include_router(messages.router, dependencies=gates.AUTHENTICATED)
    api.include_router(events.router, dependencies=gates.AUTHENTICATED)


def install(app: FastAPI) -> None:
    """The socket: its ticket is its gate; outermost, so called after everything else."""
    events.install_stream(app)
