"""`python -m core.scaffold`: bad input is refused cleanly; good input gives a working entity.

The full run works on a temporary copy of the project: scaffold two entities (one owned, one with
every field type), lint and type-check what was generated, check the migration joins every head,
then run the generated API tests on this leg with the same interpreter.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.scaffold import KINDS, ScaffoldError, make_entity, parse_fields
from tests.conftest import LEG

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TODO_FIELDS = "title:str, done:bool=false, due:datetime?"
EVERY_KIND = (
    "name:str, notes:text?, count:int=3, price:decimal?, ratio:float?, active:bool=true, "
    "day:date?, ref:uuid?, at:datetime, label:str='hi there'"
)


def copy_project(target: Path) -> None:
    """Tracked and untracked (not ignored) files, as a fresh clone plus local work would have."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in listed:
        relative = raw.decode()
        if not relative or relative.split("/")[0] in {".venv", "data"}:
            continue
        source = ROOT / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)


def run(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def scaffold(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(project, sys.executable, "-m", "core.scaffold", *args)


def snapshot(project: Path) -> dict[str, str]:
    """Path → content hash of every file under the project (what "nothing written" compares)."""
    return {
        str(path.relative_to(project)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in project.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and ".mypy_cache" not in path.parts
    }


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="plinth-scaffold-test-"))
    copy_project(directory)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


# -- refusals (checked against the real project; nothing is written) ---------------------------


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("User", "nickname:str", "already exists"),
        ("Thread", "topic:str", "already exists"),
        ("Select", "title:str", "reserved word"),
        ("Class", "title:str", "reserved word"),
        ("todo", "title:str", "must be CamelCase"),
        ("Todo", "from:str", "reserved word"),
        ("Todo", "order:int", "reserved word"),
        ("Todo", "class:str", "reserved word"),
        ("Todo", "title:string", "unknown field type 'string'"),
        ("Todo", "title", "bad field 'title'"),
        ("Todo", "title str", "bad field"),
        ("Todo", "Title:str", "snake_case"),
        ("Todo", "title:str, title:text", "duplicate field: title"),
        ("Todo", "count:int=many", "not a valid int default"),
        ("Todo", "done:bool=yes", "true or false"),
        ("Todo", "due:datetime=now", "not supported for datetime"),
        ("Todo", "id:uuid", "taken by the framework"),
        ("Todo", "owner_id:uuid", "taken by the framework"),
        ("Todo", "", "at least one field"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(name: str, fields: str, message: str) -> None:
    with pytest.raises(ScaffoldError, match=message):
        make_entity(name, fields, False, ROOT)


def test_field_types_are_the_documented_nine() -> None:
    assert set(KINDS) == {
        "str", "text", "int", "float", "bool", "datetime", "date", "uuid", "decimal"
    }  # fmt: skip
    parsed = parse_fields("a:str?, b:int=4, c:decimal=1.5, d:str='x, y'")
    assert [(f.name, f.optional, f.default) for f in parsed[:3]] == [
        ("a", True, None),
        ("b", False, "4"),
        ("c", False, 'Decimal("1.5")'),
    ]


# -- the whole workflow on a copy ---------------------------------------------------------------


@pytest.fixture(scope="module")
def scaffolded(project: Path) -> Path:
    """The copy with Todo (owned) and StockItem (every field type) generated."""
    before = run(project, sys.executable, "-m", "alembic", "heads").stdout.split()
    for args in (
        ("Todo", "--fields", TODO_FIELDS, "--owner"),
        ("StockItem", "--fields", EVERY_KIND),
    ):
        result = scaffold(project, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    assert before, "the project has no migration heads"
    return project


GENERATED = [
    "app/todos/models.py",
    "app/todos/schemas.py",
    "app/todos/repository.py",
    "app/todos/controller.py",
    "routers/todos.py",
    "tests/app/todos/test_todos_api.py",
    "app/stock_items/models.py",
    "app/stock_items/controller.py",
    "routers/stock_items.py",
    "tests/app/stock_items/test_stock_items_api.py",
]


def test_generated_code_passes_ruff_and_mypy(scaffolded: Path) -> None:
    targets = [*GENERATED, "app/models.py", "routers/__init__.py"]
    lint = run(scaffolded, str(BIN / "ruff"), "check", *targets)
    assert lint.returncode == 0, lint.stdout
    formatted = run(scaffolded, str(BIN / "ruff"), "format", "--check", *targets)
    assert formatted.returncode == 0, formatted.stdout
    typed = run(scaffolded, str(BIN / "mypy"), "--no-incremental", *targets)
    assert typed.returncode == 0, typed.stdout


def test_model_and_router_are_registered(scaffolded: Path) -> None:
    models = (scaffolded / "app" / "models.py").read_text()
    assert "from app.todos.models import Todo" in models
    assert '"StockItem",' in models
    routers = (scaffolded / "routers" / "__init__.py").read_text()
    assert "api.include_router(todos.router, dependencies=Gate.AUTHENTICATED)" in routers
    assert "api.include_router(stock_items.router, dependencies=Gate.AUTHENTICATED)" in routers


def test_the_migrations_end_in_one_head_that_creates_the_tables(scaffolded: Path) -> None:
    heads = run(scaffolded, sys.executable, "-m", "alembic", "heads").stdout.split()
    assert len([word for word in heads if word != "(head)"]) == 1, heads
    versions = scaffolded / "alembic" / "versions"
    todo_migration = next(versions.glob("*_create_todos.py")).read_text()
    assert "op.create_table('todos'" in todo_migration
    assert "ondelete='CASCADE'" in todo_migration
    assert (
        "op.create_table('stock_items'"
        in next(versions.glob("*_create_stock_items.py")).read_text()
    )


def test_an_entity_cannot_be_scaffolded_twice_and_nothing_is_written(scaffolded: Path) -> None:
    before = snapshot(scaffolded)
    again = scaffold(scaffolded, "Todo", "--fields", "title:str")
    assert again.returncode == 2
    assert "entity 'Todo' already exists" in again.stderr
    bad_type = scaffold(scaffolded, "Note", "--fields", "body:blob")
    assert bad_type.returncode == 2
    assert "unknown field type 'blob'" in bad_type.stderr
    assert snapshot(scaffolded) == before


def test_the_generated_api_tests_pass_on_this_leg(scaffolded: Path) -> None:
    result = run(
        scaffolded,
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/app/todos",
        "tests/app/stock_items",
        env={"PLINTH_TEST_LEG": LEG},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout
