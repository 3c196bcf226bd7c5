"""MkDocs hooks (mkdocs.yml `hooks:`): the parts of the docs that are read from the code at each
build, so they cannot drift from it.

A page asks for one with a marker line, `<!-- generated: NAME -->`, replaced by `GENERATORS[NAME]`:
every setting (`settings`, from configs/ and app/ through compose/settings_catalog.py, described
by the comments of .envs/.production/.env), every error class (`errors`), the WebSocket close
codes (`close-codes`), and the scaffold's options and field types (`scaffold-help`,
`scaffold-types`). An unknown marker fails the build. The example's own pages leave the nav of
a project made from the template without the example (copier.yml excludes them).
"""

import argparse
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

EXAMPLE_PAGES = {"messenger.md", "benchmark.md"}  # copier.yml leaves them out without the example
MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.M)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def settings_reference() -> str:
    """One section per settings class: its docstring, then a table of its variables."""
    from compose.settings_catalog import _format_default, all_settings, documented

    meanings = documented()
    sections: dict[type[Any], list[str]] = {}
    for setting in all_settings():
        rows = sections.setdefault(setting.owner, [])
        default = _cell(_format_default(setting.default))
        meaning = _cell(meanings.get(setting.name, ("", ""))[1])
        rows.append(f"| `{setting.name}` | `{default}` | {meaning} |")
    parts = []
    anchors: set[str] = set()
    for owner, rows in sections.items():
        prefix = str(owner.model_config.get("env_prefix", "")).upper()
        title = f"`{prefix}*`" if prefix else owner.__name__
        anchor = prefix.strip("_").lower().replace("_", "-") or owner.__name__.lower()
        if anchor in anchors:  # a second class with one prefix (the app's own rate limits)
            anchor = f"{anchor}-{owner.__name__.lower()}"
        anchors.add(anchor)
        doc = inspect.getdoc(owner) or ""
        where = owner.__module__.replace(".", "/") + ".py"
        parts.append(
            f"## {title} {{ #{anchor} }}\n\n{doc}\n\n`{owner.__name__}` in `{where}`.\n\n"
            "| Variable | Default | Meaning |\n|---|---|---|\n" + "\n".join(rows)
        )
    return "\n\n".join(parts)


def _error_classes() -> list[type[Any]]:
    """`AppError` and every subclass of it in core/ and app/, in the order they are found."""
    import pkgutil

    import app
    import core
    from core.errors import AppError

    for package in (core, app):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith(".__main__"):  # a command line, not a module to import
                __import__(info.name)
    found: list[type[Any]] = []
    pending: list[type[Any]] = [AppError]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def errors_reference() -> str:
    """A table of every error class: status, problem type, title, and when it is raised."""
    from core.http import PROBLEM_TYPE_BASE

    rows = [
        "| Status | `type` | `title` | Class | When |",
        "|---|---|---|---|---|",
    ]
    for cls in sorted(_error_classes(), key=lambda cls: cls.status):
        where = f"`{cls.__module__}.{cls.__name__}`"
        when = _cell((inspect.getdoc(cls) or "").split("\n\n")[0])
        kind = f"`{PROBLEM_TYPE_BASE}{cls.type_slug}`"
        rows.append(f"| {cls.status} | {kind} | {cls.title} | {where} | {when} |")
    return "\n".join(rows)


def close_codes_reference() -> str:
    """The WebSocket close codes, from `CloseCode` and the docstring of each member."""
    from core.platform.realtime.protocol import CloseCode

    source = inspect.getsource(CloseCode)
    meanings = dict(re.findall(r"^\s+([A-Z_]+) = \d+\n\s+\"\"\"(.*?)\"\"\"", source, re.M | re.S))
    rows = ["| Code | Name | Meaning |", "|---|---|---|"]
    for code in CloseCode:
        meaning = _cell(meanings.get(code.name, "The socket closed normally."))
        rows.append(f"| {code.value} | `{code.name}` | {meaning} |")
    return "\n".join(rows)


def _scaffold_parser() -> argparse.ArgumentParser:
    from scaffold.__main__ import _parser

    return _parser()


def scaffold_help() -> str:
    """`python -m scaffold --help`, as the tool prints it."""
    parser = _scaffold_parser()
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=96)
    return f"```text\n{parser.format_help().rstrip()}\n```"


def scaffold_types() -> str:
    """The field types `--fields` accepts, with their column and filter."""
    from scaffold.entity import KINDS

    filters = {
        "contains": "substring (`?name=…`)",
        "range": "`<name>_from`, `<name>_to`",
        "equals": "equality",
        "in": "any of several values (`?status=a&status=b`)",
    }
    rows = ["| Type | Python | Filter | Sortable |", "|---|---|---|---|"]
    for name, kind in KINDS.items():
        python = f"`{kind.python}`" if kind.python else "a generated `StrEnum`"
        sortable = "yes" if kind.sortable else "no"
        rows.append(f"| `{name}` | {python} | {filters[kind.filter]} | {sortable} |")
    return "\n".join(rows)


GENERATORS: dict[str, Callable[[], str]] = {
    "settings": settings_reference,
    "errors": errors_reference,
    "close-codes": close_codes_reference,
    "scaffold-help": scaffold_help,
    "scaffold-types": scaffold_types,
}


def fill(markdown: str) -> str:
    """Replace every marker line with what its generator returns."""
    if str(ROOT) not in sys.path:  # MkDocs restores sys.path after loading a hook module
        sys.path.insert(0, str(ROOT))

    def generated(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generated part {name!r}: one of {sorted(GENERATORS)}")
        return GENERATORS[name]()

    return MARKER.sub(generated, markdown)


def _prune(nav: list[Any], docs: Path) -> list[Any]:
    """The nav without the example's pages a project made without it does not have."""
    kept: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            ((title, target),) = item.items()
            if isinstance(target, list):
                item = {title: _prune(target, docs)}
            elif target in EXAMPLE_PAGES and not (docs / target).is_file():
                continue
        kept.append(item)
    return kept


def on_config(config: Any, **_: Any) -> Any:
    """MkDocs hook: leave the example's pages out of the nav where the template left them out."""
    config["nav"] = _prune(config["nav"], Path(config["docs_dir"]))
    return config


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs hook: fill the generated parts of a page before it is rendered."""
    return fill(markdown)
