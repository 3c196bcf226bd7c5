"""Run Alembic from code: the embedded default migrates itself at start-up."""

import asyncio
from pathlib import Path

from alembic.config import Config

from alembic import command

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None) -> Config:
    """The project's Alembic config, optionally pointed at `url`."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    if url:
        config.attributes["url"] = url
    return config


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """`alembic upgrade heads` against `url` (blocking; env.py runs its own event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str | None = None) -> None:
    """`upgrade` in a worker thread, for use inside a running event loop."""
    await asyncio.to_thread(upgrade, url)
