"""Every setting the app reads, found in configs/*.py (the framework's) and app/ (the product's
own, such as its rate limits) — for the docs table and the deploy tests.

    python compose/settings_catalog.py                 # the Markdown table of every setting
    python compose/settings_catalog.py --names         # one variable name per line
    python compose/settings_catalog.py --update-docs   # rewrite the table in docs/deploy.md

A setting's name is its class's `env_prefix` + the field name, upper-case (APP_PORT). Its
description is the comment block above it in .envs/.production/.env, which documents them all.
"""

import importlib
import inspect
import json
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic_core import PydanticUndefined  # noqa: E402

from configs.base import PlinthSettings  # noqa: E402

PRODUCTION_ENV = ROOT / ".envs" / ".production" / ".env"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
TABLE_START, TABLE_END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"
ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


@dataclass(frozen=True)
class Setting:
    """One environment variable the app reads."""

    name: str
    default: Any
    owner: type[PlinthSettings]  # the settings class, e.g. AppSettings
    field: str  # the attribute on it, e.g. "port"


def _settings_modules() -> list[str]:
    """configs/*.py, then every module of the app/ package."""
    import app

    configs = [f"configs.{path.stem}" for path in sorted((ROOT / "configs").glob("*.py"))]
    product = sorted(info.name for info in pkgutil.walk_packages(app.__path__, "app."))
    return configs + product


def settings_classes() -> list[type[PlinthSettings]]:
    """Every PlinthSettings subclass defined in configs/*.py or in the app/ package."""
    found: list[type[PlinthSettings]] = []
    for name in _settings_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, PlinthSettings)
                and cls is not PlinthSettings
                and cls.__module__ == module.__name__
            ):
                found.append(cls)
    return found


def _default(field: Any) -> Any:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()
    else:
        return None
    if hasattr(value, "get_secret_value"):
        return "(secret)"
    if hasattr(value, "times") and hasattr(value, "seconds"):
        return f"{value.times}/{value.seconds:g}s"  # a rate limit
    return getattr(value, "value", value)


def all_settings() -> list[Setting]:
    """Every setting of every class, in file order."""
    result = []
    for cls in settings_classes():
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        for field_name, field in cls.model_fields.items():
            alias = field.validation_alias if isinstance(field.validation_alias, str) else None
            name = (alias or f"{prefix}{field_name}").upper()
            result.append(Setting(name, _default(field), cls, field_name))
    return result


def known_names() -> set[str]:
    """The names of every setting."""
    return {setting.name for setting in all_settings()}


def documented(env_file: Path = PRODUCTION_ENV) -> dict[str, tuple[str, str]]:
    """name → (value in the file, the comment block above it). `# NAME=value` lines count."""
    result: dict[str, tuple[str, str]] = {}
    comments: list[str] = []
    for raw in env_file.read_text().splitlines():
        line = raw.strip()
        match = ASSIGNMENT.match(line)
        if match:
            result[match.group(1)] = (match.group(2).strip(), " ".join(comments).strip())
            comments = []
        elif line.startswith("# ---"):  # a section header
            comments = []
        elif line.startswith("#"):
            comments.append(line.lstrip("#").strip())
        else:
            comments = []
    return result


def _set_in(env_file: Path) -> dict[str, str]:
    """The variables a file really sets (not the commented `# NAME=default` lines)."""
    values = {}
    for line in env_file.read_text().splitlines():
        if ASSIGNMENT.match(line) and not line.startswith("#"):
            name, value = line.split("=", 1)
            values[name] = value
    return values


def _format_default(value: Any) -> str:
    if value is None or value == "":
        return "(unset)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value) if value else "(empty)"
    return str(value)


def markdown_table() -> str:
    """| Variable | Default | launch.yml | Meaning | for every setting."""
    docs = documented()
    production = _set_in(PRODUCTION_ENV)
    lines = [
        "| Variable | Default | launch.yml | Meaning |",
        "|---|---|---|---|",
    ]
    for setting in all_settings():
        meaning = docs.get(setting.name, ("", ""))[1].replace("|", "\\|")
        default = _format_default(setting.default).replace("|", "\\|")
        value = production.get(setting.name)
        shown = f"`{value}`" if value is not None else ""
        lines.append(f"| `{setting.name}` | `{default}` | {shown} | {meaning} |")
    return "\n".join(lines)


def documented_table(doc: Path = DEPLOY_DOC) -> str:
    """The table between the markers of docs/deploy.md."""
    text = doc.read_text()
    return text[text.index(TABLE_START) + len(TABLE_START) : text.index(TABLE_END)].strip()


def update_docs(doc: Path = DEPLOY_DOC) -> None:
    """Replace the table between the markers with the current one."""
    text = doc.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    doc.write_text(f"{text[:start]}\n{markdown_table()}\n{text[end:]}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--names"]:
        print("\n".join(s.name for s in all_settings()))
    elif sys.argv[1:] == ["--update-docs"]:
        update_docs()
    else:
        print(markdown_table())
