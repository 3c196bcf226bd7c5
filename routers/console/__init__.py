"""The admin console: operators' web pages at /admin, built on SQLAdmin (why: the guide,
docs/guides/admin-console.md).

Off unless ADMIN_CONSOLE_ENABLED; `main.create_app` calls `install_console`. Outside the API
(no OpenAPI operations, no API rate limit or request log of its own); its pages read through
the API's repositories and write through its controllers (writes.py)."""

from fastapi import FastAPI

from configs import Settings


def install_console(app: FastAPI, settings: Settings) -> None:
    """Mount the console on `app` when the settings enable it."""
    if not settings.admin_console.enabled:
        return
    from routers.console.console import Console  # sqladmin loads only when the console is on

    Console(app, settings)
