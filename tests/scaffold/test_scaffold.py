"""Adding an entity: by hand (the tutorial's docs/tutorial/first-entity.md) and with
`python -m scaffold`.

Bad scaffold input is refused cleanly. The full run works on a temporary copy of the project:
apply the hand-written Todo walkthrough exactly as documented (its test included), scaffold
three entities (an owned Project with an enum, its child Task, and a StockItem with every field
type), lint and
type-check all of it, check the migrations end in one head, then run the API tests on this leg
with the same interpreter.
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
PROJECT = (
    "Project",
    "--fields",
    "name:str, status:enum(active,archived)=active, due:date?",
    "--owner",
)
TASK = ("Task", "--fields", "title:str, done:bool=false", "--parent", "Project")
CONTRACT = ("Contract", "--fields", "title:str, pages:int=1", "--tenant")
WALKTHROUGH = ROOT / "docs" / "tutorial" / "first-entity.md"
NEEDS_EXAMPLE = pytest.mark.skipif(
    not (ROOT / "app" / "messenger").is_dir(),
    reason="reads the messenger example's Thread and Message (made without it: docs/template.md)",
)
EVERY_KIND = (
    "name:str, notes:text?, count:int=3, price:decimal?, ratio:float?, active:bool=true, "
    "day:date?, ref:uuid?, at:datetime, label:str='hi there', grade:enum(low,high_grade)?"
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
    project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
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
        ("Todo", "status:enum", "needs its values: status:enum\\(a,b\\)"),
        ("Todo", "status:enum()", "'' of 'status' must be a lower-case identifier"),
        ("Todo", "status:enum(active)", "at least two values"),
        ("Todo", "status:enum(Active,done)", "'Active' of 'status' must be a lower-case"),
        ("Todo", "status:enum(a-b,c)", "'a-b' of 'status' must be a lower-case identifier"),
        ("Todo", "status:enum(1st,2nd)", "'1st' of 'status' must be a lower-case identifier"),
        ("Todo", "status:enum(a,b,a)", "duplicate enum value of 'status': a"),
        ("Todo", "status:enum(a,b)=c", "default 'c' of 'status' is not one of its values: a, b"),
        ("Todo", "status:enum(a,b", "bad field"),
        ("Todo", "title:str(a,b)", "only an enum takes values"),
        ("Todo", "filters:enum(a,b)", "clashes with the class TodoFilters"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(name: str, fields: str, message: str) -> None:
    with pytest.raises(ScaffoldError, match=message):
        make_entity(name, fields, False, ROOT)


@pytest.mark.parametrize(
    ("name", "fields", "parent", "message"),
    [
        ("Note", "body:str", "Nope", "unknown parent 'Nope': no such model in app/models.py"),
        ("Note", "body:str", "RequestLog", "expected class RequestLogController"),
        pytest.param(
            *("Note", "body:str", "Message", "'Message' is itself a child of Thread"),
            marks=NEEDS_EXAMPLE,
        ),
        pytest.param(
            *(
                "Note",
                "thread_id:uuid",
                "Thread",
                "'thread_id' is taken by the parent's foreign key",
            ),
            marks=NEEDS_EXAMPLE,
        ),
        ("Note", "body:str", "Note", "cannot be its own parent"),
    ],
)
def test_a_parent_must_be_a_registered_entity_with_a_controller(
    name: str, fields: str, parent: str, message: str
) -> None:
    with pytest.raises(ScaffoldError, match=message):
        make_entity(name, fields, False, ROOT, parent)


@NEEDS_EXAMPLE
def test_a_registered_parent_is_read_from_its_controller() -> None:
    entity = make_entity("Note", "body:str", False, ROOT, "Thread")
    assert entity.url == "/threads/{thread_id}/notes"
    assert entity.parent is not None
    assert (entity.parent.table, entity.parent.field) == ("threads", "thread_id")
    assert (entity.parent.controller_module, entity.parent.private) == (
        "app.messenger.controller",
        False,
    )
    assert entity.parent.sample == {"title": "parent"}  # ThreadCreate's one required field


def test_field_types_are_the_documented_ten() -> None:
    assert set(KINDS) == {
        "str", "text", "int", "float", "bool", "datetime", "date", "uuid", "decimal", "enum"
    }  # fmt: skip
    parsed = parse_fields(
        "a:str?, b:int=4, c:decimal=1.5, d:str='x, y', e:enum(on, off_duty)='off_duty', "
        "f:enum(x,y)?",
        "Shift",
    )
    assert [(f.name, f.optional, f.default) for f in parsed] == [
        ("a", True, None),
        ("b", False, "4"),
        ("c", False, 'Decimal("1.5")'),
        ("d", False, "'x, y'"),
        ("e", False, "ShiftE.OFF_DUTY"),
        ("f", True, None),
    ]
    assert (parsed[4].values, parsed[4].enum_class, parsed[4].default_json) == (
        ("on", "off_duty"),
        "ShiftE",
        "off_duty",
    )


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
    "tests/app/test_todos.py",
}
WALKTHROUGH_TEST = "tests/app/test_todos.py"  # the page's test: run, not counted


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
    entity = [code for path, code in files.items() if path != WALKTHROUGH_TEST]
    counted = [line for code in entity for line in hand_written_lines(code)]
    assert len(counted) <= 25, "\n".join(counted)


def apply_walkthrough(project: Path, workdir: Path) -> None:
    """Write the documented files (the test too), register them as documented, run the
    documented commands."""
    files = documented_files()
    assert set(files) == DOCUMENTED
    for path, code in files.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(code)
    (project / "app" / "todos" / "__init__.py").write_text("")
    register_model(project, "app.todos.models", "Todo")
    register_router(project, "todos")
    autogenerate(project, workdir / "walkthrough.db", "create todos")


def autogenerate(project: Path, database: Path, message: str) -> None:
    """The documented migration step: upgrade a throwaway SQLite to every head, then
    autogenerate a revision that depends on all of them."""
    alembic = [sys.executable, "-m", "alembic", "-x", f"url=sqlite+aiosqlite:///{database}"]
    for command in (
        ["upgrade", "heads"],
        ["revision", "--autogenerate", "--head", "heads", "-m", message],
    ):
        result = run(project, *alembic, *command)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def scaffolded(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The copy with the documented Todo, then Project (owned), its child Task and StockItem
    generated by the commands the tutorial shows (docs/tutorial/scaffold.md)."""
    apply_walkthrough(project, tmp_path_factory.mktemp("walkthrough"))
    for args in (PROJECT, TASK, CONTRACT, ("StockItem", "--fields", EVERY_KIND)):
        result = scaffold(project, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    return project


WRITTEN = [
    *sorted(DOCUMENTED),
    "app/projects/models.py",
    "app/projects/schemas.py",
    "app/projects/controller.py",
    "routers/projects.py",
    "tests/app/projects/test_projects_api.py",
    "app/tasks/models.py",
    "app/tasks/schemas.py",
    "app/tasks/controller.py",
    "routers/tasks.py",
    "tests/app/tasks/test_tasks_api.py",
    "app/contracts/models.py",
    "app/contracts/schemas.py",
    "app/contracts/controller.py",
    "routers/contracts.py",
    "tests/app/contracts/test_contracts_api.py",
    "app/stock_items/models.py",
    "app/stock_items/schemas.py",
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
    assert "from app.projects.models import Project" in models
    assert "from app.tasks.models import Task" in models
    assert "from app.todos.models import Todo" in models
    assert '"StockItem",' in models
    routers = (scaffolded / "routers" / "__init__.py").read_text()
    for name in ("todos", "projects", "tasks", "stock_items"):
        assert f"api.include_router({name}.router, dependencies=gates.AUTHENTICATED)" in routers


def test_an_enum_is_a_str_enum_column_with_a_list_filter(scaffolded: Path) -> None:
    models = (scaffolded / "app" / "projects" / "models.py").read_text()
    assert (
        'class ProjectStatus(StrEnum):\n    ACTIVE = "active"\n    ARCHIVED = "archived"' in models
    )
    assert (
        "status: Mapped[ProjectStatus] = enum_column(ProjectStatus, default=ProjectStatus.ACTIVE)"
        in models
    )
    schemas = (scaffolded / "app" / "projects" / "schemas.py").read_text()
    assert "status: ProjectStatus = ProjectStatus.ACTIVE" in schemas
    assert 'status: list[ProjectStatus] | None = Filter(Project.status, "in")' in schemas
    stock = (scaffolded / "app" / "stock_items" / "models.py").read_text()
    assert (
        "grade: Mapped[StockItemGrade | None] = enum_column(StockItemGrade, default=None)" in stock
    )


def test_a_child_sits_under_its_parent(scaffolded: Path) -> None:
    controller = (scaffolded / "app" / "tasks" / "controller.py").read_text()
    assert 'parent = Parent(ProjectController, "project_id")' in controller
    router = (scaffolded / "routers" / "tasks.py").read_text()
    assert 'prefix="/projects/{project_id}/tasks"' in router
    models = (scaffolded / "app" / "tasks" / "models.py").read_text()
    assert 'ForeignKey("projects.id", ondelete="CASCADE"), index=True' in models
    assert "owner_id" not in models


def test_a_tenant_entity_sits_under_its_organization(scaffolded: Path) -> None:
    controller = (scaffolded / "app" / "contracts" / "controller.py").read_text()
    assert 'tenant = in_organization(Roles(read="member", write="admin"))' in controller
    router = (scaffolded / "routers" / "contracts.py").read_text()
    assert 'prefix="/organizations/{organization_id}/contracts"' in router
    models = (scaffolded / "app" / "contracts" / "models.py").read_text()
    assert 'ForeignKey("organizations.id", ondelete="CASCADE"), index=True' in models
    contracts = next((scaffolded / "alembic" / "versions").glob("*_create_contracts.py"))
    assert "['organization_id'], ['organizations.id']" in contracts.read_text()


def test_the_migrations_end_in_one_head_that_creates_the_tables(scaffolded: Path) -> None:
    # One head: each new revision depends on every head, so it also joins the messenger
    # example's branch where the example is kept (docs/template.md, "Migrations").
    heads = run(scaffolded, sys.executable, "-m", "alembic", "heads").stdout.splitlines()
    assert len(heads) == 1 and heads[0].endswith("(head)"), heads
    versions = scaffolded / "alembic" / "versions"
    assert "op.create_table('todos'" in next(versions.glob("*_create_todos.py")).read_text()
    projects = next(versions.glob("*_create_projects.py")).read_text()
    assert "op.create_table('projects'" in projects
    assert "sa.Enum('active', 'archived', name='project_status', native_enum=False" in projects
    assert "['owner_id'], ['users.id']" in projects
    tasks = next(versions.glob("*_create_tasks.py")).read_text()
    assert "op.create_table('tasks'" in tasks
    key = "['project_id'], ['projects.id'], name=op.f('fk_tasks_project_id_projects')"
    assert f"{key}, ondelete='CASCADE'" in tasks
    assert "'todos'" not in tasks, "each migration creates its own table only"
    assert "create_table('projects'" not in tasks
    stock_items = next(versions.glob("*_create_stock_items.py")).read_text()
    assert "op.create_table('stock_items'" in stock_items


def test_an_entity_cannot_be_scaffolded_twice_and_nothing_is_written(scaffolded: Path) -> None:
    before = snapshot(scaffolded)
    for name in ("Todo", "Project", "Task"):
        again = scaffold(scaffolded, name, "--fields", "title:str")
        assert again.returncode == 2
        assert f"entity {name!r} already exists" in again.stderr
    for args, message in (
        (("--fields", "body:blob"), "unknown field type 'blob'"),
        (("--fields", "body:str", "--parent", "Projects"), "unknown parent 'Projects'"),
        (("--fields", "body:str", "--parent", "Task"), "'Task' is itself a child of Project"),
        (("--fields", "kind:enum(a,b)=c"), "default 'c' of 'kind' is not one of its values"),
        (("--fields", "body:str", "--tenant", "--parent", "Project"), "--tenant and --parent"),
        (("--fields", "body:str", "--tenant", "--owner"), "--tenant and --owner"),
        (("--fields", "organization_id:uuid", "--tenant"), "taken by the organization's key"),
    ):
        refused = scaffold(scaffolded, "Note", *args)
        assert refused.returncode == 2, args
        assert message in refused.stderr
    assert snapshot(scaffolded) == before


def run_tests_on_this_leg(project: Path, *paths: str) -> str:
    """Run `paths` with pytest inside the copy, on this run's leg; all must pass, none skip."""
    result = run(
        project,
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *paths,
        env={"PLINTH_TEST_LEG": LEG},
        timeout=900,  # four entities' suites, on a machine that may be busy
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout
    return result.stdout


def test_the_api_tests_pass_on_this_leg(scaffolded: Path) -> None:
    run_tests_on_this_leg(
        scaffolded,
        WALKTHROUGH_TEST,
        "tests/app/projects",
        "tests/app/tasks",
        "tests/app/contracts",
        "tests/app/stock_items",
    )
