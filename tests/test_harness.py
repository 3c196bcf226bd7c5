"""The harness itself: the services leg never reports success when it could not run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def services_leg_without(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """pytest on the services leg (one quick test file), outside CI, with a server missing."""
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env.update(PLINTH_TEST_LEG="services", **variables)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["tests/core/test_clientip.py", "--basetemp", str(tmp_path / "run")]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("variable", "named"),
    [("PLINTH_TEST_POSTGRES_BINDIR", "postgresql-15"), ("PLINTH_TEST_REDIS_SERVER", "redis")],
)
def test_a_missing_server_fails_the_services_leg_and_says_how_to_fix_it(
    tmp_path: Path, variable: str, named: str
) -> None:
    result = services_leg_without(tmp_path, **{variable: str(tmp_path / "nothing-here")})
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "services leg (PostgreSQL 15 + Redis) cannot run" in output
    assert named in output
    assert "make test-embedded" in output
    assert " passed" not in output
