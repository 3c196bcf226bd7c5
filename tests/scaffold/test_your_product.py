"""docs/your-product.md, executed: its code blocks are written into a copy of the project as
they stand, registered as the page says, migrated by autogenerate, linted, type-checked and
counted, and an API test of the documented behaviour runs on this leg."""

import ast
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaffold.register import register_model, register_router
from tests.scaffold.test_scaffold import (
    BIN,
    autogenerate,
    copy_project,
    run,
    run_tests_on_this_leg,
)

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "your-product.md"
PYTHON_FILES = {
    "app/projects/models.py",
    "app/projects/schemas.py",
    "app/projects/controller.py",
    "routers/projects.py",
}
TEMPLATE = "app/projects/templates/archived.txt"
MAX_LINES = 70
API_TEST = '''"""The documented projects and tasks, through HTTP."""

import uuid
from typing import Any

from sqlalchemy import select

from core.platform.realtime.models import RealtimeEvent
from tests.app.users.email_support import mail_app
from tests.helpers import bearer, create_user
from tests.smtp import SmtpServer, text_of

URL = "/api/v1/projects"


async def test_projects_filters_and_sorting(client: Any, database: Any) -> None:
    owner = bearer(await create_user(database, "owner@example.com"))
    other = bearer(await create_user(database, "other@example.com"))
    for name, due in (("alpha", "2030-01-10"), ("beta", "2030-02-10"), ("gamma", None)):
        created = await client.post(URL, json={"name": name, "due": due}, headers=owner)
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "active"
    sneaky = await client.post(URL, json={"name": "x", "status": "archived"}, headers=owner)
    assert sneaky.status_code == 422
    page = (await client.get(URL, params={"sort": "-name"}, headers=owner)).json()
    assert [p["name"] for p in page["items"]] == ["gamma", "beta", "alpha"]
    assert (await client.get(URL, headers=other)).json()["total"] == 0
    query = {"due_from": "2030-02-01", "name": "ET"}
    found = (await client.get(URL, params=query, headers=owner)).json()["items"]
    assert [p["name"] for p in found] == ["beta"]
    both = [("status", "active"), ("status", "archived")]
    assert (await client.get(URL, params=both, headers=owner)).json()["total"] == 3
    wrong = await client.get(URL, params={"status": "paused"}, headers=owner)
    assert wrong.status_code == 422
    unknown = await client.get(URL, params={"sort": "owner_id"}, headers=owner)
    assert unknown.status_code == 422
    assert "due, name" in unknown.text


async def test_tasks_live_under_their_project(client: Any, database: Any) -> None:
    owner = bearer(await create_user(database, "owner@example.com"))
    other = bearer(await create_user(database, "other@example.com"))
    mine = (await client.post(URL, json={"name": "mine"}, headers=owner)).json()["id"]
    second = (await client.post(URL, json={"name": "second"}, headers=owner)).json()["id"]
    theirs = (await client.post(URL, json={"name": "theirs"}, headers=other)).json()["id"]
    task = await client.post(f"{URL}/{mine}/tasks", json={"title": "t1"}, headers=owner)
    assert task.status_code == 201, task.text
    task_id = task.json()["id"]
    assert task.json()["project_id"] == mine
    foreign = await client.post(f"{URL}/{theirs}/tasks", json={"title": "x"}, headers=owner)
    assert foreign.status_code == 404
    for parent in (second, theirs, str(uuid.uuid4())):
        item = f"{URL}/{parent}/tasks/{task_id}"
        assert (await client.get(item, headers=owner)).status_code == 404
        patched = await client.patch(item, json={"title": "stolen"}, headers=owner)
        assert patched.status_code == 404
        assert (await client.delete(item, headers=owner)).status_code == 404
    item = f"{URL}/{mine}/tasks/{task_id}"
    assert (await client.get(item, headers=owner)).json()["title"] == "t1"
    assert (await client.get(item, headers=other)).status_code == 404
    done = await client.patch(item, json={"status": "archived"}, headers=owner)
    assert done.json()["status"] == "archived"
    assert (await client.delete(item, headers=owner)).status_code == 204
    assert (await client.get(f"{URL}/{mine}/tasks", headers=owner)).json()["total"] == 0


async def test_archive_updates_everything_then_pushes_and_mails(
    database: Any, smtp: SmtpServer
) -> None:
    user = await create_user(database, "owner@example.com")
    owner, other = bearer(user), bearer(await create_user(database, "other@example.com"))
    async with mail_app(smtp) as mail:
        client = mail.client
        project = (await client.post(URL, json={"name": "launch"}, headers=owner)).json()["id"]
        for title in ("a", "b", "c"):
            await client.post(f"{URL}/{project}/tasks", json={"title": title}, headers=owner)
        assert (await client.post(f"{URL}/{project}/archive", headers=other)).status_code == 404
        archived = await client.post(f"{URL}/{project}/archive", headers=owner)
        assert archived.status_code == 200, archived.text
        assert archived.json()["status"] == "archived"
        tasks = (await client.get(f"{URL}/{project}/tasks", headers=owner)).json()["items"]
        assert {t["status"] for t in tasks} == {"archived"}
        message = await smtp.wait_for_message("owner@example.com")
        await mail.settle()
    assert message["Subject"] == "launch was archived"
    assert "launch and its 3 tasks were archived." in text_of(message)
    async with database.session() as session:
        events = (await session.scalars(select(RealtimeEvent))).all()
    assert [(e.kind, str(e.stream_id), e.type) for e in events] == [
        ("projects", project, "project.archived")
    ]
'''


def page_blocks() -> tuple[dict[str, str], str, str]:
    """The page's whole-file Python blocks, the template, and the registration block."""
    text = PAGE.read_text()
    files = dict(re.findall(r"```python\n# (\S+\.py)\n(.*?)```", text, re.S))
    template = re.search(r"```jinja\n\{# (\S+) #\}\n(.*?)```", text, re.S)
    assert template is not None and template.group(1) == TEMPLATE
    registration = re.search(r"```python\n(# app/models\.py:.*?)```", text, re.S)
    assert registration is not None
    return files, template.group(2), registration.group(1)


def hand_written_lines(code: str) -> list[str]:
    """Lines that count: not blank, not a comment alone, not part of an import statement."""
    imports: set[int] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return [
        line
        for number, line in enumerate(code.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#") and number not in imports
    ]


def test_the_page_is_at_most_70_hand_written_lines() -> None:
    files, _, _ = page_blocks()
    assert set(files) == PYTHON_FILES
    counted = [line for code in files.values() for line in hand_written_lines(code)]
    assert len(counted) <= MAX_LINES, "\n".join(counted)


def sort_imports(project: Path, path: str) -> None:
    """`ruff check --select I --fix`: two registrations from one module become one import;
    then `ruff format`, as an editor would, for a line the addition made too long."""
    result = run(project, str(BIN / "ruff"), "check", "--select", "I", "--fix", path)
    assert result.returncode == 0, result.stdout
    result = run(project, str(BIN / "ruff"), "format", path)
    assert result.returncode == 0, result.stdout


def register_jobs(project: Path, registration: str) -> None:
    """Follow the page's `app/jobs.py` line: import the domain's registry and include it."""
    assert "from app.projects.controller import jobs as projects_jobs" in registration
    jobs = project / "app" / "jobs.py"
    source, count = re.subn(r"\.include\(", ".include(projects_jobs, ", jobs.read_text(), count=1)
    assert count == 1, source
    lines = source.splitlines(keepends=True)
    last_import = max(
        node.end_lineno or node.lineno
        for node in ast.parse(source).body
        if isinstance(node, ast.Import | ast.ImportFrom)
    )
    lines.insert(last_import, "from app.projects.controller import jobs as projects_jobs\n")
    jobs.write_text("".join(lines))
    sort_imports(project, "app/jobs.py")


@pytest.fixture(scope="module")
def product() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="plinth-your-product-"))
    copy_project(directory)
    files, template, registration = page_blocks()
    for path, code in files.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_text(code)
    (directory / "app" / "projects" / "__init__.py").write_text("")
    (directory / TEMPLATE).parent.mkdir(parents=True, exist_ok=True)
    (directory / TEMPLATE).write_text(template)
    assert "api.include_router(projects.tasks" in registration
    register_model(directory, "app.projects.models", "Project")
    register_model(directory, "app.projects.models", "Task")
    sort_imports(directory, "app/models.py")
    register_router(directory, "projects")
    routers = directory / "routers" / "__init__.py"
    routers.write_text(
        routers.read_text().replace(
            "    api.include_router(projects.router, dependencies=gates.AUTHENTICATED)\n",
            "    api.include_router(projects.router, dependencies=gates.AUTHENTICATED)\n"
            "    api.include_router(projects.tasks, dependencies=gates.AUTHENTICATED)\n",
        )
    )
    register_jobs(directory, registration)
    (directory / "tests" / "app" / "test_your_product.py").write_text(API_TEST)
    autogenerate(directory, directory / "product.db", "create projects")
    yield directory
    subprocess.run(["rm", "-rf", str(directory)], check=False)


def test_the_page_passes_ruff_and_mypy(product: Path) -> None:
    targets = [*sorted(PYTHON_FILES), "app/models.py", "routers/__init__.py", "app/jobs.py"]
    lint = run(product, str(BIN / "ruff"), "check", *targets)
    assert lint.returncode == 0, lint.stdout
    formatted = run(product, str(BIN / "ruff"), "format", "--check", *targets)
    assert formatted.returncode == 0, formatted.stdout
    typed = run(product, str(BIN / "mypy"), *targets)
    assert typed.returncode == 0, typed.stdout


def test_the_migration_creates_both_tables_with_their_checks(product: Path) -> None:
    migration = next((product / "alembic" / "versions").rglob("*_create_projects.py")).read_text()
    assert "op.create_table('projects'" in migration
    assert "op.create_table('tasks'" in migration
    assert migration.count("create_constraint=True") == 2, migration  # ck_<table>_status


def test_the_documented_behaviour_holds_on_this_leg(product: Path) -> None:
    output = run_tests_on_this_leg(product, "tests/app/test_your_product.py")
    assert "3 passed" in output
