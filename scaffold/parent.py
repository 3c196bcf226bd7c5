"""`--parent Project`: the existing entity a new child entity belongs to.

The parent is a model registered in app/models.py, with its controller beside it by the project's
convention (`app/projects/controller.py`: `ProjectController`). Those modules are imported to
read what the child needs: the table its foreign key points to, whether the parent is owned (so
the generated tests check another user's parent), and a valid create body (so they can make
parents through the parent's controller).
"""

import ast
import importlib
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from core.controller import BaseController, types_of
from scaffold.entity import ParentSpec, ScaffoldError

SAMPLES: dict[type, object] = {
    bool: False,
    int: 1,
    float: 1.0,
    Decimal: "1",
    str: "parent",
    date: "2030-01-01",
    datetime: "2030-01-01T00:00:00Z",
}


def registered_models(root: Path) -> dict[str, str]:
    """Class name → module of every `from app.… import Model` in app/models.py, and of every
    import from a `….models` module in an optional domain's wiring.py (app/domains.py: the
    messenger example's models are registered there)."""
    found = _imports(root / "app" / "models.py")
    for wiring in sorted((root / "app").glob("*/wiring.py")):
        found |= {n: m for n, m in _imports(wiring).items() if m.endswith(".models")}
    return found


def _imports(path: Path) -> dict[str, str]:
    return {
        alias.asname or alias.name: node.module
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


def resolve_parent(root: Path, name: str) -> ParentSpec:
    """The registered entity `name` as a parent; `ScaffoldError` when it cannot be one."""
    models = registered_models(root)
    if name not in models:
        known = ", ".join(sorted(n for n, m in models.items() if m.startswith("app.")))
        raise ScaffoldError(
            f"unknown parent {name!r}: no such model in app/models.py (registered: {known})"
        )
    module = models[name]
    package = module.rpartition(".")[0]
    controller_module, controller_name = f"{package}.controller", f"{name}Controller"
    controller = _import(controller_module, controller_name, name)
    if not (isinstance(controller, type) and issubclass(controller, BaseController)):
        raise ScaffoldError(f"parent {name!r}: {controller_name} is not a BaseController")
    types = types_of(controller)
    if types.model.__name__ != name:
        raise ScaffoldError(f"parent {name!r}: {controller_name} is a controller of another model")
    if controller.parent is not None:
        raise ScaffoldError(
            f"parent {name!r} is itself a child of "
            f"{controller.parent.controller.model.__name__}; nest one level only"
        )
    schema = types.create_schema
    return ParentSpec(
        cls=name,
        model_module=module,
        table=str(types.model.__tablename__),
        controller=controller_name,
        controller_module=controller_module,
        create_schema=schema.__name__,
        schema_module=schema.__module__,
        private=controller.owner is not None and controller.owner.private,
        sample=sample_body(name, schema),
    )


def _import(module: str, attribute: str, parent: str) -> Any:
    """`module.attribute`; a missing one is a `ScaffoldError` naming the file expected."""
    imported = None
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise ScaffoldError(f"parent {parent!r}: importing {module} failed: {exc}") from None
    except Exception as exc:  # whatever breaks the import, say so
        raise ScaffoldError(f"parent {parent!r}: importing {module} failed: {exc}") from None
    if imported is None or not hasattr(imported, attribute):
        path = module.replace(".", "/") + ".py"
        raise ScaffoldError(
            f"parent {parent!r} has no controller: expected class {attribute} in {path}"
        )
    return getattr(imported, attribute)


def sample_body(parent: str, schema: type[BaseModel]) -> dict[str, object]:
    """A create body of `schema` with a plain value for each required field, validated."""
    body: dict[str, object] = {}
    for name, info in schema.model_fields.items():
        if info.is_required():
            body[name] = _sample(parent, name, info)
    try:
        schema.model_validate(body)
    except ValidationError as exc:
        raise ScaffoldError(
            f"parent {parent!r}: the generated tests cannot make one ({schema.__name__} refuses "
            f"{body}: {exc.errors()[0]['msg']}); give its required fields defaults"
        ) from None
    return body


def _sample(parent: str, name: str, info: FieldInfo) -> object:
    annotation = _bare(info.annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    if typing.get_origin(annotation) is list:
        return []
    for kind, value in SAMPLES.items():
        if annotation is kind:
            lengths = [getattr(m, "min_length", None) for m in info.metadata]
            longest = max((n for n in lengths if n), default=0)
            return value.ljust(longest, "x") if isinstance(value, str) else value
    raise ScaffoldError(
        f"parent {parent!r}: the generated tests cannot make one (required field {name!r} of "
        f"type {annotation}); give it a default"
    )


def _bare(annotation: Any) -> Any:
    """`Annotated[X, …]` and `X | None` → X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
