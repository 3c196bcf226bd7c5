"""Run Alembic from code: the embedded default migrates itself at start-up."""

import asyncio
from pathlib import Path

from alembic.config import Config

from alembic import command

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VERSIONS = PROJECT_ROOT / "alembic" / "versions"


def revisions_in(folder: str, *revisions: str) -> tuple[str, ...]:
    """`revisions` when alembic/versions/<folder>/ exists, else none.

    A domain a project can be made without (the messenger example: docs/template.md) keeps its
    migrations in a folder of its own; a merge revision that joins them names them through this,
    so the chain stays whole when the folder is gone.
    """
    return revisions if (VERSIONS / folder).is_dir() else ()


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
