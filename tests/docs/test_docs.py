"""The README and the docs site against the code: every file path and module they name exists,
every setting they name is one the app reads, the settings reference lists them all, and the
README stays short and shows the tutorial's code as it is."""

import importlib
import re
from pathlib import Path

import pytest

from compose.settings_catalog import known_names
from scripts.docs_hooks import GENERATORS, fill

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").rglob("*.md"))
TEXTS = [README, *PAGES]
INLINE_CODE = re.compile(r"`([^`\n]+)`")
TOP_LEVEL = {
    path.name for path in ROOT.iterdir() if path.name not in {".git", ".venv", "data", "site"}
}
MODULE = re.compile(r"^(core|app|routers|configs|scaffold|compose|scripts)(\.[a-z_][a-z0-9_]*)+$")
# What the tutorial and the scaffold pages tell the reader to create, and files the app writes.
CREATED_BY_THE_READER = (
    "app/todos/",
    "app/projects/",
    "app/tasks/",
    "routers/todos.py",
    "routers/projects.py",
    "routers/tasks.py",
    "tests/app/test_todos.py",
    "tests/app/projects/",
    "tests/app/tasks/",
)
# What a project made from the template without the example does not have (copier.yml's
# `_exclude`, which such a project does not carry), while the docs, which are Plinth's, name it.
EXAMPLE_FILES = (
    "app/messenger", "routers/messenger.py", "routers/threads.py", "routers/messages.py",
    "alembic/versions/messenger", "docs/messenger.md", "bench", "docs/benchmark.md",
    "tests/app/messenger", "tests/routers/test_threads.py", "tests/routers/test_threads_privacy.py",
    "tests/routers/test_threads_queries.py", "tests/routers/test_messages.py",
    "tests/realtime/test_read_state.py", "tests/realtime/test_stream.py",
    "tests/realtime/test_frame_limits.py", "tests/core/test_pgbouncer.py",
    "tests/core/test_replicas.py", "tests/bench",
    "tests/clients", "clients/openapi.json", "clients/python", "clients/typescript",
)  # fmt: skip
LEFT_OUT = () if (ROOT / "app" / "messenger").is_dir() else EXAMPLE_FILES
MADE_FROM_THE_TEMPLATE = not (ROOT / "copier.yml").is_file()
TEMPLATE_ONLY = ("scripts/template-check.sh",) if MADE_FROM_THE_TEMPLATE else ()
NOT_OURS = {"app.state.rate_limits"}  # Starlette's app.state, not our app package
EXAMPLE_SETTINGS = {"RATE_LIMIT_EXPORTS"}  # a reader's own limit, in the how-to's example
PLACEHOLDER = re.compile(r"[<{*…]|NNNN")
SETTING_PREFIXES = tuple(
    sorted({name.split("_", 1)[0] + "_" for name in known_names()} - {"TRUSTED_"})
)
MAX_README_BYTES = 12 * 1024


def named_paths(text: str) -> set[str]:
    """Inline-code tokens that are paths into the repository (`core/db.py`, `docs/`)."""
    found = set()
    for token in INLINE_CODE.findall(text):
        token = token.strip().split(" ")[0].split("::")[0].rstrip(",:;")  # a test's node id
        first = token.split("/")[0]
        if "/" in token and first in TOP_LEVEL and not PLACEHOLDER.search(token):
            found.add(token)
    return found


def named_modules(text: str) -> set[str]:
    """Inline-code tokens that are dotted names in our packages (`core.db.insert_time`)."""
    tokens = {token.strip() for token in INLINE_CODE.findall(text)}
    return {token for token in tokens if MODULE.match(token) and token not in NOT_OURS}


def resolves(dotted: str) -> bool:
    """A module, or an attribute of the longest importable module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def exists(path: str) -> bool:
    """Here, or, in a project made from the template, as the file its `.jinja` became."""
    rendered = MADE_FROM_THE_TEMPLATE and path.endswith(".jinja")
    return (ROOT / path).exists() or (rendered and (ROOT / path.removesuffix(".jinja")).exists())


@pytest.mark.parametrize("page", TEXTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_path_and_module_named_exists(page: Path) -> None:
    text = page.read_text()
    missing = [
        path
        for path in sorted(named_paths(text))
        if not path.startswith(CREATED_BY_THE_READER + LEFT_OUT + TEMPLATE_ONLY)
        and not exists(path)
    ]
    modules = sorted(named_modules(text))
    left_out = tuple(path.removesuffix(".py").replace("/", ".") for path in LEFT_OUT)
    missing += [name for name in modules if not name.startswith(left_out) and not resolves(name)]
    assert not missing, f"{page.relative_to(ROOT)} names what does not exist: {missing}"


@pytest.mark.parametrize("page", TEXTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_setting_named_is_read_by_the_app(page: Path) -> None:
    known = known_names()
    named = {
        token
        for token in re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", page.read_text())
        if token.startswith(SETTING_PREFIXES)
    }
    unknown = sorted(named - known - EXAMPLE_SETTINGS)
    assert not unknown, f"{page.relative_to(ROOT)} names settings the app does not read: {unknown}"


def test_the_settings_reference_is_generated_and_lists_every_setting() -> None:
    page = (ROOT / "docs" / "reference" / "settings.md").read_text()
    assert "<!-- generated: settings -->" in page
    assert "| `" not in page, "the settings reference is generated: no hand-typed rows"
    generated = fill(page)
    missing = sorted(name for name in known_names() if f"| `{name}` |" not in generated)
    assert not missing, missing


def test_the_error_reference_lists_every_error_class() -> None:
    from core.errors import AppError

    generated = GENERATORS["errors"]()
    classes: list[type[AppError]] = [AppError, *AppError.__subclasses__()]
    for cls in classes:
        assert f"`{cls.__module__}.{cls.__name__}`" in generated


def test_an_unknown_generated_part_fails_the_build() -> None:
    with pytest.raises(ValueError, match="unknown generated part"):
        fill("<!-- generated: nonsense -->")


def test_the_readme_is_short_and_links_into_the_site() -> None:
    text = README.read_text()
    assert len(text.encode()) <= MAX_README_BYTES
    linked = set(re.findall(r"\]\((docs/[^)#]+)", text))
    assert {"docs/tutorial/index.md", "docs/reference/settings.md"} <= linked
    assert all((ROOT / path).is_file() for path in linked if path not in LEFT_OUT), linked


def test_the_readme_taste_is_the_tutorials_code() -> None:
    tutorial = (ROOT / "docs" / "tutorial" / "first-entity.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    for block in blocks:
        assert block in tutorial, block


@pytest.mark.skipif(not (ROOT / "copier.yml").is_file(), reason="a project made from the template")
def test_the_example_files_are_what_the_template_leaves_out() -> None:
    block = re.search(r"if not example %}(.*?){%- endif", (ROOT / "copier.yml").read_text(), re.S)
    assert block is not None
    assert tuple(block.group(1).split()) == EXAMPLE_FILES
