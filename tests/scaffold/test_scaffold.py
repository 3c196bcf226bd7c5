"""Adding an entity: by hand (the README's walkthrough) and with `python -m scaffold`.

Bad scaffold input is refused cleanly. The full run works on a temporary copy of the project:
apply the hand-written Todo walkthrough exactly as documented, scaffold two entities (an owned
Task, and a StockItem with every field type), lint and type-check all of it, check the
migrations end in one head, then run the API tests on this leg with the same interpreter.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaffold.entity import KINDS, ScaffoldError, make_entity, parse_fields
from scaffold.register import register_model, register_router
from tests.conftest import LEG

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TASK_FIELDS = "title:str, done:bool=false, due:datetime?"
WALKTHROUGH = ROOT / "README.md"
WALKTHROUGH_TEST = '''"""The Todo of the README's "Add an entity", through HTTP."""

from typing import Any

from tests.helpers import bearer, create_user

URL = "/api/v1/todos"


async def test_the_documented_todo_works(client: Any, database: Any) -> None:
    owner = bearer(await create_user(database, "owner@example.com"))
    other = bearer(await create_user(database, "other@example.com"))
    assert (await client.get(URL)).status_code == 401
    body = {"title": "write the docs", "due": "2030-01-01T09:00:00Z"}
    created = await client.post(URL, json=body, headers=owner)
    assert created.status_code == 201, created.text
    todo = created.json()
    assert (todo["title"], todo["done"], todo["due"]) == ("write the docs", False, body["due"])
    assert (await client.get(f"{URL}/{todo['id']}", headers=other)).status_code == 404
    assert (await client.get(URL, headers=other)).json()["total"] == 0
    done = await client.patch(f"{URL}/{todo['id']}", json={"done": True}, headers=owner)
    assert done.json()["done"] is True
    assert (await client.get(URL, params={"sort": "-due"}, headers=owner)).json()["total"] == 1
    assert (await client.get(URL, params={"sort": "owner_id"}, headers=owner)).status_code == 422
    sneaky = {"title": "x", "owner_id": todo["id"]}
    assert (await client.post(URL, json=sneaky, headers=owner)).status_code == 422
    assert (await client.delete(f"{URL}/{todo['id']}", headers=owner)).status_code == 204
    assert (await client.get(URL, headers=owner)).json()["total"] == 0
'''
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
    cache = ROOT / ".mypy_cache"
    if cache.is_dir():  # a warm cache: mypy re-checks only what changed (the generated files)
        shutil.copytree(cache, target / ".mypy_cache", dirs_exist_ok=True)


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
    return run(project, sys.executable, "-m", "scaffold", *args)


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
        ("ApiKey", "label:str", "already exists"),
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


def documented_files() -> dict[str, str]:
    """The walkthrough's Python blocks that are whole files: `# path.py` alone on line one."""
    blocks = re.findall(r"```python\n# (\S+\.py)\n(.*?)```", WALKTHROUGH.read_text(), re.S)
    return dict(blocks)


DOCUMENTED = {
    "app/todos/models.py",
    "app/todos/schemas.py",
    "app/todos/controller.py",
    "routers/todos.py",
}


def hand_written_lines(code: str) -> list[str]:
    """The lines that count: not blank, not imports, not a comment alone."""
    lines = [line for line in code.splitlines() if line.strip()]
    return [
        line
        for line in lines
        if not line.startswith(("import ", "from ")) and not line.lstrip().startswith("#")
    ]


def test_the_documented_entity_is_at_most_25_hand_written_lines() -> None:
    files = documented_files()
    assert set(files) == DOCUMENTED
    counted = [line for code in files.values() for line in hand_written_lines(code)]
    assert len(counted) <= 25, "\n".join(counted)


def apply_walkthrough(project: Path, workdir: Path) -> None:
    """Write the documented files, register them as documented, run the documented commands."""
    files = documented_files()
    assert set(files) == DOCUMENTED
    for path, code in files.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(code)
    (project / "app" / "todos" / "__init__.py").write_text("")
    register_model(project, "app.todos.models", "Todo")
    register_router(project, "todos")
    (project / "tests" / "app" / "test_walkthrough_todos.py").write_text(WALKTHROUGH_TEST)
    url = f"url=sqlite+aiosqlite:///{workdir / 'walkthrough.db'}"
    alembic = [sys.executable, "-m", "alembic", "-x", url]
    for command in (
        ["upgrade", "heads"],
        ["revision", "--autogenerate", "--head", "heads", "-m", "create todos"],
    ):
        result = run(project, *alembic, *command)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def scaffolded(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The copy with the documented Todo, then Task (owned) and StockItem generated."""
    apply_walkthrough(project, tmp_path_factory.mktemp("walkthrough"))
    for args in (
        ("Task", "--fields", TASK_FIELDS, "--owner"),
        ("StockItem", "--fields", EVERY_KIND),
    ):
        result = scaffold(project, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    return project


WRITTEN = [
    *sorted(DOCUMENTED),
    "app/tasks/models.py",
    "app/tasks/schemas.py",
    "app/tasks/controller.py",
    "routers/tasks.py",
    "tests/app/tasks/test_tasks_api.py",
    "app/stock_items/models.py",
    "app/stock_items/controller.py",
    "routers/stock_items.py",
    "tests/app/stock_items/test_stock_items_api.py",
]


def test_written_and_generated_code_passes_ruff_and_mypy(scaffolded: Path) -> None:
    targets = [*WRITTEN, "app/models.py", "routers/__init__.py"]
    lint = run(scaffolded, str(BIN / "ruff"), "check", *targets)
    assert lint.returncode == 0, lint.stdout
    formatted = run(scaffolded, str(BIN / "ruff"), "format", "--check", *targets)
    assert formatted.returncode == 0, formatted.stdout
    typed = run(scaffolded, str(BIN / "mypy"), *targets)
    assert typed.returncode == 0, typed.stdout


def test_models_and_routers_are_registered(scaffolded: Path) -> None:
    models = (scaffolded / "app" / "models.py").read_text()
    assert "from app.tasks.models import Task" in models
    assert "from app.todos.models import Todo" in models
    assert '"StockItem",' in models
    routers = (scaffolded / "routers" / "__init__.py").read_text()
    for name in ("todos", "tasks", "stock_items"):
        assert f"api.include_router({name}.router, dependencies=gates.AUTHENTICATED)" in routers


def test_the_migrations_end_in_one_head_that_creates_the_tables(scaffolded: Path) -> None:
    heads = run(scaffolded, sys.executable, "-m", "alembic", "heads").stdout.split()
    assert len([word for word in heads if word != "(head)"]) == 1, heads
    versions = scaffolded / "alembic" / "versions"
    assert "op.create_table('todos'" in next(versions.glob("*_create_todos.py")).read_text()
    tasks = next(versions.glob("*_create_tasks.py")).read_text()
    assert "op.create_table('tasks'" in tasks
    assert "ondelete='CASCADE'" in tasks
    assert "'todos'" not in tasks, "each migration creates its own table only"
    stock_items = next(versions.glob("*_create_stock_items.py")).read_text()
    assert "op.create_table('stock_items'" in stock_items


def test_an_entity_cannot_be_scaffolded_twice_and_nothing_is_written(scaffolded: Path) -> None:
    before = snapshot(scaffolded)
    for name in ("Todo", "Task"):
        again = scaffold(scaffolded, name, "--fields", "title:str")
        assert again.returncode == 2
        assert f"entity {name!r} already exists" in again.stderr
    bad_type = scaffold(scaffolded, "Note", "--fields", "body:blob")
    assert bad_type.returncode == 2
    assert "unknown field type 'blob'" in bad_type.stderr
    assert snapshot(scaffolded) == before


def test_the_api_tests_pass_on_this_leg(scaffolded: Path) -> None:
    result = run(
        scaffolded,
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/app/test_walkthrough_todos.py",
        "tests/app/tasks",
        "tests/app/stock_items",
        env={"PLINTH_TEST_LEG": LEG},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout
