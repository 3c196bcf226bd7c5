"""Registering a new entity in the two files that list them, located with `ast` (not regex):
its model in app/models.py (so Alembic sees it), its router in routers/__init__.py."""

import ast
from pathlib import Path


class RegistrationError(Exception):
    """The file does not have the shape the scaffold knows how to extend."""


def _replace_lines(lines: list[str], node: ast.stmt, new: list[str]) -> None:
    assert node.end_lineno is not None
    lines[node.lineno - 1 : node.end_lineno] = new


def _import_lines(module: str, names: list[str]) -> list[str]:
    single = f"from {module} import {', '.join(names)}"
    if len(single) <= 100:
        return [single]
    return [f"from {module} import (", *(f"    {name}," for name in names), ")"]


def register_model(root: Path, module: str, cls: str) -> None:
    """Import `cls` from `module` in app/models.py and list it in `__all__` (both sorted)."""
    path = root / "app" / "models.py"
    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))
    exports = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        ),
        None,
    )
    if exports is None or not isinstance(exports.value, ast.List):
        raise RegistrationError("app/models.py has no `__all__ = [...]` list")
    names = sorted({*(ast.literal_eval(e) for e in exports.value.elts), cls})
    _replace_lines(lines, exports, ["__all__ = [", *(f'    "{n}",' for n in names), "]"])
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
    line = f"from {module} import {cls}"
    after = [node for node in imports if f"from {node.module} import" < line]
    position = after[-1].end_lineno if after else (imports[0].lineno - 1 if imports else 1)
    assert position is not None
    lines.insert(position, line)
    path.write_text("\n".join(lines) + "\n")


def register_router(root: Path, name: str) -> None:
    """Import routers/<name>.py and include its `router` with the authenticated gate, after
    the last `api.include_router(...)` of `include_routes`."""
    path = root / "routers" / "__init__.py"
    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))
    function = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "include_routes"),
        None,
    )
    includes = [
        statement
        for statement in (function.body if function else [])
        if isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Attribute)
        and statement.value.func.attr == "include_router"
        and isinstance(statement.value.func.value, ast.Name)
        and statement.value.func.value.id == "api"
    ]
    if not includes:
        raise RegistrationError("routers/__init__.py: no api.include_router(...) in include_routes")
    last = includes[-1]
    assert last.end_lineno is not None
    indent = " " * last.col_offset
    lines.insert(
        last.end_lineno,
        f"{indent}api.include_router({name}.router, dependencies=gates.AUTHENTICATED)",
    )
    routers_import = next(
        (n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "routers"), None
    )
    if routers_import is None:
        raise RegistrationError("routers/__init__.py has no `from routers import ...` line")
    names = sorted({alias.name for alias in routers_import.names} | {name})
    _replace_lines(lines, routers_import, _import_lines("routers", names))
    path.write_text("\n".join(lines) + "\n")
