"""Generate a new entity: model, schemas, repository, controller, router, migration and tests.

    python -m core.scaffold Todo --fields "title:str, done:bool=false, due:datetime?" [--owner]

Field syntax: `name:type`, `?` after the type for an optional (nullable) field, `=value` for a
default. Types: str, text, int, float, bool, datetime, date, uuid, decimal. With `--owner`, each
row belongs to the user who created it and only that user sees it.

Writes app/<plural>/, routers/<plural>.py and tests/app/<plural>/test_<plural>_api.py, registers
the model in app/models.py and the router in routers/__init__.py, then autogenerates the Alembic
migration against a throwaway SQLite database upgraded to every current head. Bad input (an
existing entity, a reserved word, an unknown type, bad syntax) exits with status 2 and writes
nothing.
"""

import argparse
import keyword
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXIT_BAD_INPUT = 2
STR_LENGTH = 200
DECIMAL_DIGITS, DECIMAL_PLACES = 12, 2

_SQL_RESERVED_WORDS = """
    all alter analyse analyze and any array as asc asymmetric authorization between binary both
    case cast check collate column constraint create cross current_catalog current_date
    current_role current_time current_timestamp current_user default deferrable delete desc
    distinct do drop else end except exists false fetch for foreign freeze from full grant group
    having ilike in index initially inner insert intersect into is isnull join key lateral
    leading left like limit localtime localtimestamp natural not notnull null offset on only or
    order outer overlaps placing primary references returning right row rows select
    session_user similar some symmetric table tablesample then to trailing true union unique
    update user using values variadic verbose view when where window with
"""
SQL_RESERVED = frozenset(_SQL_RESERVED_WORDS.split())
RESERVED_FIELDS = frozenset(
    {"id", "created_at", "updated_at", "deleted_at", "deleted", "owner_id", "metadata"}
    | {"limit", "offset", "cursor", "sort", "registry"}  # query parameters and ORM attributes
    | {"copy", "dict", "json", "schema", "validate", "construct", "fields"}  # pydantic names
)


@dataclass(frozen=True)
class Kind:
    """How one field type is stored, validated and filtered."""

    python: str  # the annotation in models and read schemas
    schema: str  # the annotation in create/update schemas
    column: str  # mapped_column's type argument, "" when the annotation decides
    constraints: str  # Field(...) arguments on input
    filter: str  # "contains", "equals" or "range"
    sortable: bool
    samples: tuple[object, object]  # two JSON values for the generated tests, first < second


KINDS: dict[str, Kind] = {
    "str": Kind("str", "str", f"String({STR_LENGTH})", f"max_length={STR_LENGTH}", "contains",
                True, ("alpha", "beta")),
    "text": Kind("str", "str", "Text", "max_length=100_000", "contains", False,
                 ("alpha text", "beta text")),
    "int": Kind("int", "int", "", "", "range", True, (1, 2)),
    "float": Kind("float", "float", "", "", "range", True, (1.5, 2.5)),
    "bool": Kind("bool", "bool", "", "", "equals", True, (False, True)),
    "datetime": Kind("datetime", "AwareDatetime", "", "", "range", True,
                     ("2030-01-01T00:00:00Z", "2031-06-01T12:30:00Z")),
    "date": Kind("date", "date", "", "", "range", True, ("2030-01-01", "2031-06-01")),
    "uuid": Kind("uuid.UUID", "uuid.UUID", "", "", "equals", False,
                 ("00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002")),
    "decimal": Kind("Decimal", "Decimal", f"Numeric({DECIMAL_DIGITS}, {DECIMAL_PLACES})",
                    f"max_digits={DECIMAL_DIGITS}, decimal_places={DECIMAL_PLACES}", "range",
                    True, ("1.50", "2.50")),
}  # fmt: skip

FIELD_PATTERN = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<kind>[A-Za-z]+)\s*(?P<optional>\?)?"
    r"\s*(?:=\s*(?P<default>.*))?$"
)


class ScaffoldError(Exception):
    """Bad input: printed as one clear line, exit status 2, nothing written."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of the new entity."""

    name: str
    kind: str
    optional: bool
    default: str | None  # Python source of the default, e.g. `False`, `"todo"`

    @property
    def info(self) -> Kind:
        return KINDS[self.kind]

    @property
    def required(self) -> bool:
        """The client must send it on create."""
        return not self.optional and self.default is None


@dataclass(frozen=True)
class Entity:
    """The names of the new entity and its fields."""

    cls: str  # Todo
    snake: str  # todo
    plural: str  # todos
    fields: tuple[FieldSpec, ...]
    owner: bool

    @property
    def url(self) -> str:
        return "/" + self.plural.replace("_", "-")


# -- parsing and validation --------------------------------------------------------------------


def snake_case(name: str) -> str:
    """`TodoItem` → `todo_item`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def pluralise(word: str) -> str:
    """`todo_item` → `todo_items`, `category` → `categories`, `box` → `boxes`."""
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def _is_reserved(word: str) -> bool:
    return keyword.iskeyword(word) or keyword.issoftkeyword(word) or word.lower() in SQL_RESERVED


def parse_default(kind: str, raw: str) -> str:
    """The Python source of a default given on the command line, checked against its type."""
    text = raw.strip()
    if kind == "bool":
        if text.lower() not in {"true", "false"}:
            raise ScaffoldError(f"a bool default is true or false, not {raw!r}")
        return "True" if text.lower() == "true" else "False"
    if kind in {"int", "float"}:
        try:
            return repr(int(text) if kind == "int" else float(text))
        except ValueError:
            raise ScaffoldError(f"{raw!r} is not a valid {kind} default") from None
    if kind == "decimal":
        try:
            return f'Decimal("{Decimal(text)}")'
        except InvalidOperation:
            raise ScaffoldError(f"{raw!r} is not a valid decimal default") from None
    if kind in {"str", "text"}:
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]
        if kind == "str" and len(text) > STR_LENGTH:
            raise ScaffoldError(f"a str default is at most {STR_LENGTH} characters")
        return repr(text)
    raise ScaffoldError(f"a default is not supported for {kind} fields (use `?` for optional)")


def parse_field(text: str) -> FieldSpec:
    """One `name:type[?][=default]` item."""
    match = FIELD_PATTERN.match(text.strip())
    if match is None:
        raise ScaffoldError(
            f"bad field {text.strip()!r}: write name:type, name:type? or name:type=x"
        )
    name, kind = match["name"], match["kind"]
    if kind not in KINDS:
        raise ScaffoldError(
            f"unknown field type {kind!r} for {name!r}; use one of: {', '.join(KINDS)}"
        )
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ScaffoldError(
            f"field name {name!r} must be snake_case (lower-case letters, digits, _)"
        )
    if _is_reserved(name):
        raise ScaffoldError(f"field name {name!r} is a reserved word in Python or SQL")
    if name in RESERVED_FIELDS or name.startswith("model_"):
        raise ScaffoldError(f"field name {name!r} is taken by the framework; choose another")
    default = None if match["default"] is None else parse_default(kind, match["default"])
    return FieldSpec(name, kind, bool(match["optional"]), default)


def _split_fields(text: str) -> list[str]:
    """Split on commas outside quotes: `label:str='a, b', n:int` is two fields."""
    items, current, quote = [], "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            items.append(current)
            current = ""
            continue
        current += char
    return [*items, current]


def parse_fields(text: str) -> tuple[FieldSpec, ...]:
    """The comma-separated field list; at least one field, no duplicates or clashing filters."""
    items = [item for item in _split_fields(text) if item.strip()]
    if not items:
        raise ScaffoldError('give at least one field, e.g. --fields "title:str"')
    fields = tuple(parse_field(item) for item in items)
    names = [field.name for field in fields]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ScaffoldError(f"duplicate field: {', '.join(duplicates)}")
    for field in fields:
        if field.info.filter == "range":
            clash = {f"{field.name}_from", f"{field.name}_to"} & set(names)
            if clash:
                raise ScaffoldError(
                    f"field {clash.pop()!r} clashes with the filters of {field.name!r}"
                )
    return fields


def _existing_tables(root: Path) -> set[str]:
    pattern = re.compile(r"""__tablename__\s*=\s*["']([^"']+)["']""")
    tables: set[str] = set()
    for path in (root / "app").rglob("*.py"):
        tables.update(pattern.findall(path.read_text()))
    return tables


def _existing_classes(root: Path) -> set[str]:
    text = (root / "app" / "models.py").read_text()
    return set(re.findall(r"\b([A-Z][A-Za-z0-9]*)\b", text))


def make_entity(name: str, fields_text: str, owner: bool, root: Path) -> Entity:
    """Validate the command line against the project; raise `ScaffoldError` on any problem."""
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        raise ScaffoldError(f"entity name {name!r} must be CamelCase, e.g. Todo or TodoItem")
    snake = snake_case(name)
    plural = pluralise(snake)
    taken = [
        str(path.relative_to(root))
        for path in (root / "app" / plural, root / "routers" / f"{plural}.py")
        if path.exists()
    ]
    if taken or plural in _existing_tables(root) or name in _existing_classes(root):
        where = ", ".join(taken) or f"table {plural!r} or model {name!r}"
        raise ScaffoldError(f"entity {name!r} already exists ({where})")
    if _is_reserved(snake) or _is_reserved(plural) or _is_reserved(name):
        raise ScaffoldError(f"entity name {name!r} is a reserved word in Python or SQL")
    if snake in {"core", "app", "routers", "configs", "tests", "alembic", "models"}:
        raise ScaffoldError(f"entity name {name!r} clashes with a project package")
    return Entity(name, snake, plural, parse_fields(fields_text), owner)


# -- code generation ---------------------------------------------------------------------------


def _model_line(field: FieldSpec) -> str:
    annotation = f"{field.info.python} | None" if field.optional else field.info.python
    args = [field.info.column] if field.info.column else []
    if field.default is not None:
        args.append(f"default={field.default}")
    elif field.optional:
        args.append("default=None")
    value = f" = mapped_column({', '.join(args)})" if args else ""
    return f"    {field.name}: Mapped[{annotation}]{value}"


def render_models(entity: Entity) -> str:
    kinds = {field.kind for field in entity.fields}
    sa_names = _pick(
        ForeignKey=entity.owner, String="str" in kinds, Text="text" in kinds,
        Numeric="decimal" in kinds,
    )  # fmt: skip
    imports = ["import uuid"] if entity.owner or "uuid" in kinds else []
    dt_names = _pick(date="date" in kinds, datetime="datetime" in kinds)
    if dt_names:
        imports.append(f"from datetime import {', '.join(dt_names)}")
    if "decimal" in kinds:
        imports.append("from decimal import Decimal")
    body = [_model_line(field) for field in entity.fields]
    if entity.owner:
        body.append(
            "    owner_id: Mapped[uuid.UUID] = mapped_column(\n"
            '        ForeignKey("users.id", ondelete="CASCADE"), index=True\n'
            "    )"
        )
    third_party = []
    if sa_names:
        third_party.append(f"from sqlalchemy import {', '.join(sa_names)}")
    third_party.append("from sqlalchemy.orm import Mapped, mapped_column")
    owner_doc = " Each row belongs to the user who created it." if entity.owner else ""
    return _module(
        f'"""{entity.cls}: the model behind /api/v1{entity.url}.{owner_doc}"""',
        imports,
        third_party,
        ["from core.db import CommonBase"],
        f"class {entity.cls}(CommonBase):\n"
        f'    __tablename__ = "{entity.plural}"\n\n' + "\n".join(body) + "\n",
    )


def _pick(**wanted: bool) -> list[str]:
    """The sorted names whose flag is true (for import lines)."""
    return sorted(name for name, on in wanted.items() if on)


def _module(doc: str, stdlib: list[str], third: list[str], first: list[str], body: str) -> str:
    blocks = [doc] + ["\n".join(group) for group in (stdlib, third, first) if group] + [body]
    return "\n\n".join(blocks[:-1]) + "\n\n\n" + blocks[-1]


def _field_call(*args: str) -> str:
    present = [arg for arg in args if arg]
    return f"Field({', '.join(present)})"


def _input_type(field: FieldSpec) -> str:
    """The annotation of a field in the create/update schemas."""
    return "AwareUTC" if field.kind == "datetime" else field.info.schema


def _create_line(field: FieldSpec) -> str:
    kind = field.info
    constraints = kind.constraints
    if field.kind == "str" and field.required:
        constraints = f"min_length=1, {constraints}"
    schema = _input_type(field)
    annotation = f"{schema} | None" if field.optional else schema
    if field.default is not None:
        default = field.default
    elif field.optional:
        default = "None"
    else:
        default = ""
    if constraints:
        value = _field_call(f"default={default}" if default else "", constraints)
        return f"    {field.name}: {annotation} = {value}"
    return f"    {field.name}: {annotation}" + (f" = {default}" if default else "")


def _update_line(field: FieldSpec) -> str:
    kind = field.info
    schema = _input_type(field)
    constraints = kind.constraints
    if field.kind == "str" and not field.optional:
        constraints = f"min_length=1, {constraints}"
    if constraints:
        return f"    {field.name}: {schema} | None = " + _field_call("default=None", constraints)
    return f"    {field.name}: {schema} | None = None"


def render_schemas(entity: Entity) -> str:
    kinds = {field.kind for field in entity.fields}
    not_null = [field.name for field in entity.fields if not field.optional]
    stdlib = ["import uuid"] if entity.owner or "uuid" in kinds else []
    has_datetime = "datetime" in kinds
    dt_names = _pick(UTC=has_datetime, date="date" in kinds, datetime=has_datetime)
    if dt_names:
        stdlib.append(f"from datetime import {', '.join(dt_names)}")
    if "decimal" in kinds:
        stdlib.append("from decimal import Decimal")
    if has_datetime:
        stdlib.append("from typing import Annotated")
    pydantic_names = _pick(
        Field=any(KINDS[k].constraints for k in kinds),
        AfterValidator=has_datetime,
        AwareDatetime=has_datetime,
        field_validator=bool(not_null),
    )
    third = [f"from pydantic import {', '.join(pydantic_names)}"] if pydantic_names else []
    create = "\n".join(_create_line(field) for field in entity.fields)
    update = "\n".join(_update_line(field) for field in entity.fields)
    read_lines = [
        f"    {f.name}: {f.info.python}" + (" | None" if f.optional else "") for f in entity.fields
    ]
    if entity.owner:
        read_lines.append("    owner_id: uuid.UUID")
    validator = ""
    if not_null:
        names = ", ".join(f'"{name}"' for name in not_null)
        validator = (
            f"\n\n    @field_validator({names})\n"
            "    @classmethod\n"
            "    def not_null(cls, value: object) -> object:\n"
            '        """These fields may be left out, but not set to null."""\n'
            "        if value is None:\n"
            '            raise ValueError("may be omitted but not null")\n'
            "        return value"
        )
    aware_utc = (
        "AwareUTC = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]\n"
        '"""A datetime with its zone, converted to UTC (as it is stored and read back)."""\n\n\n'
        if has_datetime
        else ""
    )
    body = aware_utc + (
        f"class {entity.cls}Create(CreateSchema):\n{create}\n\n\n"
        f"class {entity.cls}Update(UpdateSchema):\n"
        f'    """Only the fields sent are changed."""\n\n{update}{validator}\n\n\n'
        f"class {entity.cls}Read(ReadSchema):\n" + "\n".join(read_lines) + "\n"
    )
    return _module(
        f'"""Request and response bodies of {entity.plural}."""',
        stdlib,
        third,
        ["from core.schemas import CreateSchema, ReadSchema, UpdateSchema"],
        body,
    )


def render_repository(entity: Entity) -> str:
    return _module(
        f'"""Data access for {entity.plural}."""',
        [],
        [],
        [
            f"from app.{entity.plural}.models import {entity.cls}",
            "from core.repository import BaseRepository",
        ],
        f"class {entity.cls}Repository(BaseRepository[{entity.cls}]):\n    model = {entity.cls}\n",
    )


def _filter_parts(entity: Entity) -> tuple[list[str], list[str], list[str]]:
    """Filter fields, their WHERE clauses and a description, per field kind."""
    fields, clauses, described = [], [], []
    for field in entity.fields:
        column = f"{entity.cls}.{field.name}"
        schema = field.info.schema
        if field.info.filter == "contains":
            fields.append(f"    {field.name}: str | None = Field(default=None, max_length=200)")
            clauses.append(
                f"        if self.{field.name}:\n"
                f"            stmt = stmt.where(contains({column}, self.{field.name}))"
            )
            described.append(f"`?{field.name}=` (substring, any case)")
        elif field.info.filter == "equals":
            fields.append(f"    {field.name}: {schema} | None = None")
            clauses.append(
                f"        if self.{field.name} is not None:\n"
                f"            stmt = stmt.where({column} == self.{field.name})"
            )
            described.append(f"`?{field.name}=`")
        else:
            for suffix, operator in (("from", ">="), ("to", "<=")):
                fields.append(f"    {field.name}_{suffix}: {schema} | None = None")
                clauses.append(
                    f"        if self.{field.name}_{suffix} is not None:\n"
                    f"            stmt = stmt.where({column} {operator} self.{field.name}_{suffix})"
                )
            described.append(f"`?{field.name}_from=` / `?{field.name}_to=` (inclusive)")
    return fields, clauses, described


def render_controller(entity: Entity) -> str:
    kinds = {field.kind for field in entity.fields}
    filter_fields, clauses, described = _filter_parts(entity)
    stdlib = ["import uuid"] if "uuid" in kinds else []
    if "date" in kinds:
        stdlib.append("from datetime import date")
    if "decimal" in kinds:
        stdlib.append("from decimal import Decimal")
    stdlib.append("from typing import Any")
    has_contains = "contains" in {KINDS[k].filter for k in kinds}
    pydantic_names = _pick(Field=has_contains, AwareDatetime="datetime" in kinds)
    third = [f"from pydantic import {', '.join(pydantic_names)}"] if pydantic_names else []
    third.append("from sqlalchemy import Select")
    first = [
        f"from app.{entity.plural}.models import {entity.cls}",
        f"from app.{entity.plural}.repository import {entity.cls}Repository",
        f"from app.{entity.plural}.schemas import {entity.cls}Create, {entity.cls}Update",
        "from core.controller import BaseController",
    ]
    filtering = ["FilterSet", "contains"] if has_contains else ["FilterSet"]
    first.append(f"from core.filtering import {', '.join(filtering)}")
    sortable = [f for f in entity.fields if f.info.sortable]
    sort_lines = [f'        "{f.name}": {entity.cls}.{f.name},' for f in sortable]
    sort_lines += [
        f'        "created_at": {entity.cls}.created_at,',
        f'        "updated_at": {entity.cls}.updated_at,',
    ]
    filters_doc = ", ".join(described)
    body = (
        f"class {entity.cls}Filters(FilterSet):\n"
        f'    """{_wrap_doc(filters_doc + ".", 4)}"""\n\n' + "\n".join(filter_fields) + "\n\n"
        "    def apply(self, stmt: Select[Any]) -> Select[Any]:\n"
        + "\n".join(clauses)
        + "\n        return stmt\n\n\n"
        f"class {entity.cls}Controller(BaseController[{entity.cls}, {entity.cls}Create, "
        f"{entity.cls}Update]):\n"
        f"    repository_class = {entity.cls}Repository\n"
        "    sort_fields = {\n" + "\n".join(sort_lines) + "\n    }\n"
    )
    if entity.owner:
        first.append("from core.errors import Unauthorized")
        body += (
            "\n"
            f"    def scope(self, stmt: Select[{entity.cls}]) -> Select[{entity.cls}]:\n"
            '        """Each user sees only their own rows; others\' answer 404."""\n'
            f"        return stmt.where({entity.cls}.owner_id == self._owner_id())\n\n"
            f"    async def perform_create(self, data: {entity.cls}Create) -> {entity.cls}:\n"
            f"        row = {entity.cls}(**data.model_dump(), owner_id=self._owner_id())\n"
            "        return await self.repository.add(row)\n\n"
            "    def _owner_id(self) -> uuid.UUID:\n"
            "        if self.principal is None:\n"
            "            raise Unauthorized()\n"
            "        return self.principal.id\n"
        )
        if "import uuid" not in stdlib:
            stdlib.insert(0, "import uuid")
    return _module(f'"""{entity.cls} behaviour: visibility, filters and sorting."""', stdlib,
                   third, first, body)  # fmt: skip


def _wrap_doc(text: str, indent: int, width: int = 96) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width - indent:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return ("\n" + " " * indent).join(lines)


def render_router(entity: Entity) -> str:
    c, p, s = entity.cls, entity.plural, entity.snake
    owner = "\n\nRows belong to their creator; nobody else sees them.\n" if entity.owner else ""
    body = f'''router = APIRouter(prefix="{entity.url}", tags=["{p}"])
"""Included with Gate.AUTHENTICATED in routers/__init__.py."""

{c}s = Annotated[{c}Controller, Depends(provide({c}Controller))]
Service = Annotated[ControllerService, Depends(provide(ControllerService))]
Sort = Annotated[str, Depends(sort_param({c}Controller.sort_fields, {c}Controller.default_sort))]


@router.get("", response_model=OffsetPage[{c}Read])
async def list_{p}(
    {p}: {c}s,
    filters: Annotated[{c}Filters, Query()],
    page: Annotated[OffsetParams, Depends(offset_params)],
    sort: Sort,
) -> Any:
    """{c}s, a numbered page at a time, filtered and sorted."""
    return await {p}.list(filters=filters, sort=sort, limit=page.limit, offset=page.offset)


@router.post("", response_model={c}Read, status_code=status.HTTP_201_CREATED)
async def create_{s}(data: {c}Create, service: Service) -> Any:
    async with service.atomic():
        return await service.controller({c}Controller).create(data)


@router.get("/{{{s}_id}}", response_model={c}Read)
async def read_{s}({s}_id: uuid.UUID, {p}: {c}s) -> Any:
    return await {p}.get({s}_id)


@router.patch("/{{{s}_id}}", response_model={c}Read)
async def update_{s}({s}_id: uuid.UUID, data: {c}Update, service: Service) -> Any:
    """Change only the fields sent."""
    async with service.atomic():
        return await service.controller({c}Controller).update({s}_id, data)


@router.delete("/{{{s}_id}}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_{s}({s}_id: uuid.UUID, service: Service) -> None:
    """Soft delete: the row leaves every list and read; `restore` brings it back."""
    async with service.atomic():
        await service.controller({c}Controller).delete({s}_id)


@router.post("/{{{s}_id}}/restore", response_model={c}Read)
async def restore_{s}({s}_id: uuid.UUID, service: Service) -> Any:
    async with service.atomic():
        return await service.controller({c}Controller).restore({s}_id)
'''
    return _module(
        f'"""/api/v1{entity.url}: create, list, read, update, delete and restore {p}.{owner}"""',
        ["import uuid", "from typing import Annotated, Any"],
        ["from fastapi import APIRouter, Depends, Query, status"],
        [
            f"from app.{p}.controller import {c}Controller, {c}Filters",
            f"from app.{p}.schemas import {c}Create, {c}Read, {c}Update",
            "from core.deps import provide",
            "from core.filtering import sort_param",
            "from core.pagination import OffsetPage, OffsetParams, offset_params",
            "from core.service import ControllerService",
        ],
        body,
    )


# -- the generated tests -----------------------------------------------------------------------


def _payloads(entity: Entity) -> tuple[dict[str, object], dict[str, object]]:
    first = {field.name: field.info.samples[0] for field in entity.fields}
    second = {field.name: field.info.samples[1] for field in entity.fields}
    return first, second


def _filter_cases(entity: Entity) -> list[tuple[dict[str, object], str]]:
    """(query parameters, which row matches: "first" or "second") for every filter."""
    cases: list[tuple[dict[str, object], str]] = []
    for field in entity.fields:
        first, second = field.info.samples
        if field.info.filter == "contains":
            cases.append(({field.name: str(first)[:3].upper()}, "first"))
        elif field.info.filter == "equals":
            cases.append(({field.name: _query_value(second)}, "second"))
        else:
            cases.append(({f"{field.name}_from": _query_value(second)}, "second"))
            cases.append(({f"{field.name}_to": _query_value(first)}, "first"))
    return cases


def _query_value(value: object) -> object:
    return str(value).lower() if isinstance(value, bool) else value


def render_tests(entity: Entity) -> str:
    p = entity.plural
    first, second = _payloads(entity)
    kinds = {field.name: field.kind for field in entity.fields}
    sortable = next((f for f in entity.fields if f.info.sortable), None)
    required = [f.name for f in entity.fields if f.required]
    not_null = [f.name for f in entity.fields if not f.optional]
    patch_field = entity.fields[0].name
    sort_test = ""
    if sortable is not None:
        sort_test = f"""
    by_field = await client.get(URL, params={{"sort": "-{sortable.name}"}}, headers=headers)
    assert ids(by_field) == [b["id"], a["id"]]
"""
    required_test = ""
    if required:
        required_test = f'''
    missing = {{k: v for k, v in FIRST.items() if k != "{required[0]}"}}
    assert (await client.post(URL, json=missing, headers=headers)).status_code == 422
'''
    null_test = ""
    if not_null:
        null_test = f'''
    nulled = await client.patch(
        f"{{URL}}/{{row['id']}}", json={{"{not_null[0]}": None}}, headers=headers
    )
    assert nulled.status_code == 422
'''
    if entity.owner:
        visibility = """

async def test_rows_are_visible_to_their_owner_only(client: Any, database: Any) -> None:
    owner = await create_user(database, "owner@example.com")
    other = bearer(await create_user(database, "other@example.com"))
    row = await create(client, bearer(owner), FIRST)
    assert row["owner_id"] == str(owner.id)
    listed = await client.get(URL, headers=other)
    assert listed.json()["total"] == 0
    path = f"{URL}/{row['id']}"
    assert (await client.get(path, headers=other)).status_code == 404
    assert (await client.patch(path, json=SECOND, headers=other)).status_code == 404
    assert (await client.delete(path, headers=other)).status_code == 404
    assert (await client.post(f"{path}/restore", headers=other)).status_code == 404
    assert (await client.get(path, headers=bearer(owner))).status_code == 200


async def test_the_owner_is_the_caller_whatever_the_body_says(client: Any, database: Any) -> None:
    owner = await create_user(database, "owner@example.com")
    other = await create_user(database, "other@example.com")
    body = {**FIRST, "owner_id": str(other.id)}
    response = await client.post(URL, json=body, headers=bearer(owner))
    assert response.status_code == 422
"""
    else:
        visibility = """

async def test_rows_are_shared_by_every_signed_in_user(client: Any, database: Any) -> None:
    row = await create(client, await headers_for(database, "owner@example.com"), FIRST)
    other = await headers_for(database, "other@example.com")
    assert (await client.get(f"{URL}/{row['id']}", headers=other)).status_code == 200
"""
    return f'''"""/api/v1{entity.url} (generated by core.scaffold; extend it as {p} grow)."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import bearer, create_user

URL = "/api/v1{entity.url}"
KINDS = {kinds!r}
FIRST: dict[str, Any] = {first!r}
SECOND: dict[str, Any] = {second!r}
FILTER_CASES: list[tuple[dict[str, Any], str]] = {_filter_cases(entity)!r}


def normalised(kind: str, value: Any) -> Any:
    """Values as the API may spell them (`2030-01-01T00:00:00Z`, `"1.50"`) made comparable."""
    if value is None:
        return None
    if kind == "datetime":
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if kind == "decimal":
        return Decimal(str(value))
    if kind == "uuid":
        return uuid.UUID(str(value))
    return value


def assert_matches(row: dict[str, Any], sent: dict[str, Any]) -> None:
    for name, value in sent.items():
        assert normalised(KINDS[name], row[name]) == normalised(KINDS[name], value), name


async def headers_for(database: Any, email: str = "owner@example.com") -> dict[str, str]:
    return bearer(await create_user(database, email))


async def create(client: Any, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    row: dict[str, Any] = response.json()
    return row


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", URL),
        ("POST", URL),
        ("GET", f"{{URL}}/{{uuid.uuid4()}}"),
        ("PATCH", f"{{URL}}/{{uuid.uuid4()}}"),
        ("DELETE", f"{{URL}}/{{uuid.uuid4()}}"),
        ("POST", f"{{URL}}/{{uuid.uuid4()}}/restore"),
    ],
)
async def test_every_route_needs_a_token(client: Any, method: str, path: str) -> None:
    response = await client.request(method, path, json=FIRST if method != "GET" else None)
    assert response.status_code == 401


async def test_create_read_update_delete_restore(client: Any, database: Any) -> None:
    headers = await headers_for(database)
    row = await create(client, headers, FIRST)
    assert_matches(row, FIRST)
    path = f"{{URL}}/{{row['id']}}"
    read = await client.get(path, headers=headers)
    assert read.status_code == 200
    assert_matches(read.json(), FIRST)

    change = {{"{patch_field}": SECOND["{patch_field}"]}}
    updated = await client.patch(path, json=change, headers=headers)
    assert updated.status_code == 200, updated.text
    assert_matches(updated.json(), {{**FIRST, **change}})

    assert (await client.delete(path, headers=headers)).status_code == 204
    assert (await client.get(path, headers=headers)).status_code == 404
    restored = await client.post(f"{{path}}/restore", headers=headers)
    assert restored.status_code == 200
    assert (await client.get(path, headers=headers)).status_code == 200


async def test_bad_input_is_refused(client: Any, database: Any) -> None:
    headers = await headers_for(database)
    unknown = await client.post(URL, json={{**FIRST, "id": str(uuid.uuid4())}}, headers=headers)
    assert unknown.status_code == 422
{required_test}    row = await create(client, headers, FIRST)
{null_test}    assert (await client.get(f"{{URL}}/not-an-id", headers=headers)).status_code == 422


async def test_list_pages_with_a_total(client: Any, database: Any) -> None:
    headers = await headers_for(database)
    for _ in range(3):
        await create(client, headers, FIRST)
    page = await client.get(URL, params={{"limit": 2}}, headers=headers)
    assert page.json()["total"] == 3
    assert len(page.json()["items"]) == 2
    rest = await client.get(URL, params={{"limit": 2, "offset": 2}}, headers=headers)
    assert len(rest.json()["items"]) == 1
    assert (await client.get(URL, params={{"limit": 101}}, headers=headers)).status_code == 422


@pytest.mark.parametrize(("params", "match"), FILTER_CASES)
async def test_filters_narrow_the_list(
    client: Any, database: Any, params: dict[str, Any], match: str
) -> None:
    headers = await headers_for(database)
    rows = {{
        "first": await create(client, headers, FIRST),
        "second": await create(client, headers, SECOND),
    }}
    assert ids(await client.get(URL, params=params, headers=headers)) == [rows[match]["id"]]


async def test_sort_follows_the_allowlist(client: Any, database: Any) -> None:
    headers = await headers_for(database)
    a = await create(client, headers, FIRST)
    b = await create(client, headers, SECOND)
    oldest_first = await client.get(URL, params={{"sort": "created_at"}}, headers=headers)
    assert ids(oldest_first) == [a["id"], b["id"]]
{sort_test}    for field in ("deleted_at", "owner_id", "nope"):
        response = await client.get(URL, params={{"sort": field}}, headers=headers)
        assert response.status_code == 422, field


async def test_soft_deleted_rows_leave_lists_counts_and_reads(client: Any, database: Any) -> None:
    headers = await headers_for(database)
    gone = await create(client, headers, FIRST)
    kept = await create(client, headers, SECOND)
    path = f"{{URL}}/{{gone['id']}}"
    assert (await client.delete(path, headers=headers)).status_code == 204
    listed = await client.get(URL, headers=headers)
    assert ids(listed) == [kept["id"]]
    assert listed.json()["total"] == 1
    assert (await client.get(path, headers=headers)).status_code == 404
    assert (await client.patch(path, json=SECOND, headers=headers)).status_code == 404
    assert (await client.delete(path, headers=headers)).status_code == 404
{visibility}'''


# -- writing and registering -------------------------------------------------------------------


def register_model(root: Path, module: str, cls: str) -> None:
    """Import `cls` from `module` in app/models.py (sorted) and add it to `__all__`."""
    path = root / "app" / "models.py"
    text = path.read_text()
    line = f"from {module} import {cls}"
    lines = text.splitlines()
    imports = [i for i, existing in enumerate(lines) if re.match(r"from (app|core)\.", existing)]
    position = next((i for i in imports if lines[i] > line), imports[-1] + 1 if imports else 1)
    lines.insert(position, line)
    text = "\n".join(lines) + "\n"
    match = re.search(r"__all__ = \[(.*?)\]", text, re.S)
    if match is not None:
        names = [*re.findall(r"\"([^\"]+)\"", match.group(1)), cls]
        rendered = "__all__ = [\n" + "".join(f'    "{n}",\n' for n in sorted(set(names))) + "]"
        text = text[: match.start()] + rendered + text[match.end() :]
    path.write_text(text)


def register_router(root: Path, name: str) -> None:
    """Import routers/<name>.py and include its `router` with Gate.AUTHENTICATED."""
    path = root / "routers" / "__init__.py"
    text = path.read_text()
    match = re.search(r"^from routers import (\(([^)]*)\)|[^\n]*)$", text, re.M)
    if match is None:
        text = text.replace(
            "from core.deps import Gate\n",
            f"from core.deps import Gate\nfrom routers import {name}\n",
        )
    else:
        names = re.findall(r"\w+", match.group(2) if match.group(2) is not None else match.group(1))
        names = sorted({*names, name})
        single = f"from routers import {', '.join(names)}"
        if len(single) > 100:
            single = "from routers import (\n" + "".join(f"    {n},\n" for n in names) + ")"
        text = text[: match.start()] + single + text[match.end() :]
    include = f"    api.include_router({name}.router, dependencies=Gate.AUTHENTICATED)\n"
    anchor = "    app.include_router(api)\n"
    if anchor not in text:
        raise ScaffoldError("routers/__init__.py has no `app.include_router(api)` line to follow")
    text = text.replace(anchor, include + anchor)
    path.write_text(text)


def planned_files(root: Path, entity: Entity) -> dict[Path, str]:
    """Every new file and its content."""
    package = root / "app" / entity.plural
    tests = root / "tests" / "app" / entity.plural
    files = {
        package / "__init__.py": "",
        package / "models.py": render_models(entity),
        package / "schemas.py": render_schemas(entity),
        package / "repository.py": render_repository(entity),
        package / "controller.py": render_controller(entity),
        root / "routers" / f"{entity.plural}.py": render_router(entity),
        tests / "__init__.py": "",
        tests / f"test_{entity.plural}_api.py": render_tests(entity),
    }
    if not (root / "tests" / "app" / "__init__.py").exists():
        files[root / "tests" / "app" / "__init__.py"] = ""
    return files


def _next_revision_id(root: Path) -> str:
    numbers = [
        int(match.group(1))
        for path in (root / "alembic" / "versions").glob("*.py")
        if (match := re.match(r"^(\d+)_", path.name))
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def generate_migration(root: Path, entity: Entity) -> Path:
    """`alembic revision --autogenerate` against a throwaway SQLite upgraded to every head; the
    new revision depends on all current heads, so it also joins open branches."""
    workdir = Path(tempfile.mkdtemp(prefix="plinth-scaffold-"))
    url = f"sqlite+aiosqlite:///{workdir / 'scaffold.db'}"
    alembic = [sys.executable, "-m", "alembic", "-x", f"url={url}"]
    revision = _next_revision_id(root)
    try:
        for command in (
            ["upgrade", "heads"],
            ["revision", "--autogenerate", "--head", "heads", "--rev-id", revision,
             "-m", f"create {entity.plural}"],
        ):  # fmt: skip
            result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
                [*alembic, *command], cwd=root, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise RuntimeError(f"alembic {' '.join(command)} failed:\n{result.stderr}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    path = next((root / "alembic" / "versions").glob(f"{revision}_*.py"))
    foreign = sorted(
        set(re.findall(r"(?:create_table|drop_table|batch_alter_table)\('(\w+)'", path.read_text()))
        - {entity.plural}
    )
    if foreign:
        print(
            f"warning: the migration also changes {', '.join(foreign)}: models and migrations had "
            f"drifted before the scaffold; review {path.relative_to(root)}",
            file=sys.stderr,
        )
    return path


def _format(root: Path, paths: Sequence[Path]) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        return
    targets = [str(path) for path in paths if path.suffix == ".py"]
    for command in (["check", "--fix", "--select", "I", "--quiet"], ["format", "--quiet"]):
        subprocess.run([ruff, *command, *targets], cwd=root, check=False)  # noqa: S603


def scaffold(entity: Entity, root: Path = PROJECT_ROOT, *, migrate: bool = True) -> list[Path]:
    """Write the entity's files, register it, generate its migration; return what changed."""
    files = planned_files(root, entity)
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    register_model(root, f"app.{entity.plural}.models", entity.cls)
    register_router(root, entity.plural)
    changed = [*files, root / "app" / "models.py", root / "routers" / "__init__.py"]
    _format(root, [path for path in changed if path.suffix == ".py"])
    if migrate:
        changed.append(generate_migration(root, entity))
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.scaffold",
        description="Generate an entity: model, schemas, repository, controller, router, "
        "migration and API tests.",
    )
    parser.add_argument("name", help="CamelCase entity name, e.g. Todo")
    parser.add_argument(
        "--fields",
        required=True,
        help='e.g. "title:str, done:bool=false, due:datetime?"; types: ' + ", ".join(KINDS),
    )
    parser.add_argument("--owner", action="store_true", help="rows belong to their creator")
    parser.add_argument("--no-migration", action="store_true", help="skip the Alembic revision")
    args = parser.parse_args(argv)
    try:
        entity = make_entity(args.name, args.fields, args.owner, PROJECT_ROOT)
    except ScaffoldError as exc:
        parser.exit(EXIT_BAD_INPUT, f"{parser.prog}: error: {exc}\n")
    try:
        changed = scaffold(entity, PROJECT_ROOT, migrate=not args.no_migration)
    except RuntimeError as exc:
        print(
            f"{parser.prog}: the files are written and registered, but the migration was not "
            f"generated (fix the cause, then run the two alembic commands of "
            f"the README's 'Add an entity'):\n{exc}",
            file=sys.stderr,
        )
        return 1
    for path in changed:
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    print(
        f"\nNext: alembic upgrade heads, then open /docs ({entity.url}), and run\n"
        f"  pytest tests/app/{entity.plural}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
