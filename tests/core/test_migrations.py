"""Alembic: upgrade and downgrade on both backends, and no drift between models and migrations."""

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
