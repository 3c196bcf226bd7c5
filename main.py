"""Entry point: `python main.py` serves the API with uvicorn (host, port, workers from settings);
`python main.py --reload` (`make dev`) restarts it whenever a source file changes.

Production runs `gunicorn "main:create_app()"` with uvicorn workers (see compose/start).
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from app.authentication import authenticate
from app.domains import wirings
from app.jobs import registry as jobs
from app.realtime import realtime
from app.users.bootstrap import first_superuser
from configs import Settings, get_settings
from configs.service import SERVICE_NAME
from core.application import create_application
from core.platform.jobs import jobs_lifespan
from core.platform.logging import logging_config
from core.platform.realtime.server import UVICORN_WEBSOCKET_OPTIONS
from routers import include_routes
from routers.console import install_console

DESCRIPTION = f"""
{SERVICE_NAME} API: users with OAuth2 scopes.

Use **Authorize** with the password flow (username = your email) to try gated routes.

**Real-time events** (a WebSocket, which Swagger cannot show): get a ticket with
`POST /api/v1/realtime/tickets`, then open `/api/v1/realtime/ws` — the protocol, close codes and
a browser client are in the documentation: The WebSocket protocol (docs/reference/websocket.md).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app factory used by uvicorn, gunicorn and the tests."""
    settings = settings or get_settings()
    optional = wirings()  # the optional domains: the messenger example (app/domains.py)
    app = create_application(
        settings,
        authenticator=authenticate,
        include_routes=include_routes,
        lifespans=[
            jobs_lifespan(jobs),
            realtime,
            *(hook for w in optional for hook in w.lifespans),
            first_superuser,
        ],
        description=DESCRIPTION + "".join(w.description for w in optional),
    )
    install_console(app, settings)  # /admin, when ADMIN_CONSOLE_ENABLED (routers/console)
    return app


SOURCE_DIRS = ("app", "core", "routers", "configs")
"""What `--reload` watches: Python files and the templates (e-mails) beside them."""
RELOAD_INCLUDES = ("*.py", "*.html", "*.txt")


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the app factory with uvicorn; `--reload` runs one worker under uvicorn's reloader,
    which starts a fresh one when a file under `SOURCE_DIRS` changes."""
    parser = argparse.ArgumentParser(description="Serve the Plinth API.")
    parser.add_argument("--reload", action="store_true", help="restart on source changes")
    reload = parser.parse_args(argv).reload
    settings = get_settings()
    here = Path(__file__).resolve().parent
    uvicorn.run(
        "main:create_app",
        factory=True,
        host=settings.app.host,
        port=settings.app.port,
        workers=1 if reload else settings.app.workers,
        reload=reload,
        reload_dirs=[str(here / name) for name in SOURCE_DIRS] if reload else None,
        reload_includes=list(RELOAD_INCLUDES) if reload else None,
        proxy_headers=False,
        access_log=False,  # the app writes the access lines (core.platform.logging)
        log_config=logging_config(settings),
        **UVICORN_WEBSOCKET_OPTIONS,
    )


if __name__ == "__main__":
    main()
