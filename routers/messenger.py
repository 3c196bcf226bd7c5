"""The messenger example's routes (threads, messages), included by `routers.include_routes`
when the project has the example (app/domains.py). Its events go over every app's event stream
(routers/realtime.py)."""

from core.versioning import ApiVersion
from routers import messages, threads
from routers.gates import gates


def include_routes(api: ApiVersion) -> None:
    """Its routers, each with its gate."""
    api.include_router(threads.router, dependencies=gates.AUTHENTICATED)
    api.include_router(messages.thread_messages, dependencies=gates.AUTHENTICATED)
    api.include_router(messages.router, dependencies=gates.AUTHENTICATED)
