"""Alembic: upgrade and downgrade on both backends, and no drift between models and migrations."""

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from alembic import command
from core.migrations import PROJECT_ROOT, alembic_config


@pytest.fixture
def fresh_url(leg: Any, tmp_path: Path) -> str:
    """An empty database of this leg's kind."""
    if leg.postgres is not None:
        return str(leg.postgres.create_database(f"mig_{uuid.uuid4().hex[:8]}"))
    return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"


def alembic_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={url}", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
        check=False,
    )


def test_upgrade_then_downgrade_to_base_and_back(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "heads")
    command.downgrade(config, "base")
    at_base = alembic_cli(fresh_url, "current")
    assert at_base.returncode == 0 and "(head)" not in at_base.stdout
    command.upgrade(config, "heads")
    result = alembic_cli(fresh_url, "current")
    assert result.returncode == 0, result.stderr
    assert "(head)" in result.stdout


def test_models_and_migrations_do_not_drift(fresh_url: str) -> None:
    command.upgrade(alembic_config(fresh_url), "heads")
    # a separate process: only the app's models are loaded, not the core tests' toy model
    result = alembic_cli(fresh_url, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr


async def test_kept_thread_events_move_to_the_stream_table_and_back(fresh_url: str) -> None:
    """0011: a thread's kept events become its stream's (`kind` "threads", each frame gaining
    its `stream` key, so replays after the upgrade look like new events); downgrading puts them
    back in `thread_events`."""
    import json

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.messenger.models import Thread
    from app.users.models import User
    from core.db import create_engine, new_id, utcnow

    config = alembic_config(fresh_url)

    async def migrate(revision: str) -> None:  # in a thread: env.py runs its own event loop
        await asyncio.to_thread(command.upgrade, config, revision)

    await migrate("0010")
    kept = sa.table(
        "thread_events",
        *(sa.column(n, sa.Uuid()) for n in ("id", "thread_id")),
        sa.column("seq", sa.BigInteger()), sa.column("type", sa.String()),
        sa.column("frame", sa.Text()), sa.column("created_at", sa.DateTime()),
    )  # fmt: skip
    engine = create_engine(fresh_url)
    user = User(email="m@example.com", hashed_password="x", full_name="", scopes=["regular"])
    async with AsyncSession(engine, expire_on_commit=False) as session:  # tables as at the head
        session.add(user)
        await session.flush()
        thread = Thread(title="t", created_by=user.id, event_seq=1)
        session.add(thread)
        await session.flush()
        frame = {"type": "thread.created", "thread_id": str(thread.id), "seq": 1, "data": {}}
        await session.execute(
            sa.insert(kept),
            [{"id": new_id(), "thread_id": thread.id, "seq": 1, "type": "thread.created",
              "frame": json.dumps(frame), "created_at": utcnow().replace(tzinfo=None)}],
        )  # fmt: skip
        await session.commit()
    await engine.dispose()
    await migrate("heads")
    engine = create_engine(fresh_url)
    async with engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT kind, seq, frame FROM realtime_events"))
        ((kind, seq, text),) = rows.all()
    await engine.dispose()
    assert (kind, seq) == ("threads", 1)
    assert json.loads(text) == {**frame, "stream": f"threads:{thread.id}"}
    await asyncio.to_thread(command.downgrade, config, "0010")
    engine = create_engine(fresh_url)
    async with engine.connect() as connection:
        back = (await connection.execute(sa.text("SELECT seq, type FROM thread_events"))).all()
    await engine.dispose()
    assert [tuple(r) for r in back] == [(1, "thread.created")]
