"""The new entity from the command line: its names and fields, validated against the project."""

import keyword
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TENANT_FIELD = "organization_id"
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
    filter: str  # "contains", "equals", "range" or "in" (any of several values)
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
    "datetime": Kind("datetime", "Timestamp", "", "", "range", True,
                     ("2030-01-01T00:00:00Z", "2031-06-01T12:30:00Z")),
    "date": Kind("date", "date", "", "", "range", True, ("2030-01-01", "2031-06-01")),
    "uuid": Kind("uuid.UUID", "uuid.UUID", "", "", "equals", False,
                 ("00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002")),
    "decimal": Kind("Decimal", "Decimal", f"Numeric({DECIMAL_DIGITS}, {DECIMAL_PLACES})",
                    f"max_digits={DECIMAL_DIGITS}, decimal_places={DECIMAL_PLACES}", "range",
                    True, ("1.50", "2.50")),
    # The annotation (a StrEnum generated beside the model) and samples are the field's own.
    "enum": Kind("", "", "", "", "in", True, ("", "")),
}  # fmt: skip
ENUM_VALUE = re.compile(r"[a-z][a-z0-9_]*")
ENUM_VALUE_LENGTH = 64

FIELD_PATTERN = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<kind>[A-Za-z]+)\s*"
    r"(?:\((?P<values>[^()]*)\))?\s*(?P<optional>\?)?\s*(?:=\s*(?P<default>.*))?$"
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
    default_json: object = None  # the default as the API returns it, e.g. `false`, `"todo"`
    values: tuple[str, ...] = ()  # an enum's values
    enum_class: str = ""  # an enum's class, generated in the models module: `ProjectStatus`

    @property
    def info(self) -> Kind:
        if self.kind == "enum":
            return replace(
                KINDS["enum"],
                python=self.enum_class,
                schema=self.enum_class,
                samples=(self.values[0], self.values[1]),
            )
        return KINDS[self.kind]

    @property
    def required(self) -> bool:
        """The client must send it on create."""
        return not self.optional and self.default is None


@dataclass(frozen=True)
class ParentSpec:
    """The existing entity a child entity belongs to (`--parent`), as the project defines it."""

    cls: str  # Project
    model_module: str  # app.projects.models
    table: str  # projects
    controller: str  # ProjectController
    controller_module: str  # app.projects.controller
    create_schema: str  # ProjectCreate
    schema_module: str  # app.projects.schemas
    private: bool  # owned: other users cannot see it (nor its children)
    sample: dict[str, object]  # a valid create body, for the generated tests

    @property
    def field(self) -> str:
        """The child's foreign key column, and the path parameter of its routes."""
        return f"{snake_case(self.cls)}_id"

    @property
    def url(self) -> str:
        return "/" + pluralise(snake_case(self.cls)).replace("_", "-")


@dataclass(frozen=True)
class Entity:
    """The names of the new entity and its fields."""

    cls: str  # Todo
    snake: str  # todo
    plural: str  # todos
    fields: tuple[FieldSpec, ...]
    owner: bool
    parent: ParentSpec | None = None
    tenant: bool = False  # rows belong to an organization (core/tenancy.py)

    @property
    def keys(self) -> bool:
        """Whether the model has a foreign key (an owner, a parent or an organization)."""
        return self.owner or self.tenant or self.parent is not None

    @property
    def url(self) -> str:
        """The collection's path under /api/v1; a child's sits under its parent:
        `/projects/{project_id}/tasks`; an organization's under it:
        `/organizations/{organization_id}/documents`."""
        own = "/" + self.plural.replace("_", "-")
        if self.tenant:
            return f"/organizations/{{{TENANT_FIELD}}}{own}"
        if self.parent is None:
            return own
        return f"{self.parent.url}/{{{self.parent.field}}}{own}"


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


def _unquoted(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def parse_default(kind: str, raw: str) -> tuple[str, object]:
    """The Python source of a default given on the command line, checked against its type, and
    its value as the API returns it (JSON)."""
    text = raw.strip()
    if kind == "bool":
        if text.lower() not in {"true", "false"}:
            raise ScaffoldError(f"a bool default is true or false, not {raw!r}")
        return ("True", True) if text.lower() == "true" else ("False", False)
    if kind in {"int", "float"}:
        try:
            number = int(text) if kind == "int" else float(text)
        except ValueError:
            raise ScaffoldError(f"{raw!r} is not a valid {kind} default") from None
        return repr(number), number
    if kind == "decimal":
        try:
            return f'Decimal("{Decimal(text)}")', str(Decimal(text))
        except InvalidOperation:
            raise ScaffoldError(f"{raw!r} is not a valid decimal default") from None
    if kind in {"str", "text"}:
        text = _unquoted(text)
        if kind == "str" and len(text) > STR_LENGTH:
            raise ScaffoldError(f"a str default is at most {STR_LENGTH} characters")
        return repr(text), text
    raise ScaffoldError(f"a default is not supported for {kind} fields (use `?` for optional)")


def parse_enum_values(name: str, raw: str | None) -> tuple[str, ...]:
    """`enum(active,archived)` → ("active", "archived"): at least two distinct lower-case
    identifiers (each upper-cased is its member's name: `ACTIVE`)."""
    if raw is None:
        raise ScaffoldError(f"enum field {name!r} needs its values: {name}:enum(a,b)")
    values = tuple(value.strip() for value in raw.split(","))
    for value in values:
        if not ENUM_VALUE.fullmatch(value) or len(value) > ENUM_VALUE_LENGTH:
            raise ScaffoldError(
                f"enum value {value!r} of {name!r} must be a lower-case identifier (a-z, 0-9, _; "
                f"starting with a letter; at most {ENUM_VALUE_LENGTH} characters)"
            )
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise ScaffoldError(f"duplicate enum value of {name!r}: {', '.join(duplicates)}")
    if len(values) < 2:
        raise ScaffoldError(f"enum field {name!r} needs at least two values")
    return values


def _enum_default(name: str, values: tuple[str, ...], raw: str, cls: str) -> tuple[str, object]:
    value = _unquoted(raw.strip())
    if value not in values:
        raise ScaffoldError(
            f"default {value!r} of {name!r} is not one of its values: {', '.join(values)}"
        )
    return f"{cls}.{value.upper()}", value


def enum_class_name(entity: str, field: str) -> str:
    """`Project`, `status` → `ProjectStatus`: the StrEnum generated beside the model."""
    return entity + "".join(part.capitalize() for part in field.split("_"))


def _check_field_name(name: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ScaffoldError(
            f"field name {name!r} must be snake_case (lower-case letters, digits, _)"
        )
    if _is_reserved(name):
        raise ScaffoldError(f"field name {name!r} is a reserved word in Python or SQL")
    if name in RESERVED_FIELDS or name.startswith("model_"):
        raise ScaffoldError(f"field name {name!r} is taken by the framework; choose another")


def parse_field(text: str, entity: str = "Entity") -> FieldSpec:
    """One `name:type[?][=default]` item (`name:enum(a,b)…` for an enum) of `entity`."""
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
    if match["values"] is not None and kind != "enum":
        raise ScaffoldError(f"only an enum takes values in parentheses, not {kind} ({name!r})")
    _check_field_name(name)
    optional = bool(match["optional"])
    if kind == "enum":
        values, cls = parse_enum_values(name, match["values"]), enum_class_name(entity, name)
        source, value = (
            (None, None)
            if match["default"] is None
            else _enum_default(name, values, match["default"], cls)
        )
        return FieldSpec(name, kind, optional, source, value, values, cls)
    source, value = (
        (None, None) if match["default"] is None else parse_default(kind, match["default"])
    )
    return FieldSpec(name, kind, optional, source, value)


def _split_fields(text: str) -> list[str]:
    """Split on commas outside quotes and parentheses: `label:str='a, b', s:enum(a,b)` is two
    fields."""
    items, current, quote, depth = [], "", "", 0
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "()":
            depth = max(depth + (1 if char == "(" else -1), 0)
        elif char == "," and not depth:
            items.append(current)
            current = ""
            continue
        current += char
    return [*items, current]


def _check_enum_classes(entity: str, fields: tuple[FieldSpec, ...]) -> None:
    """Each enum's class is new: not another enum's, nor a class generated for the entity."""
    generated = {f"{entity}{suffix}" for suffix in ("Create", "Update", "Read", "Filters")}
    classes = [field.enum_class for field in fields if field.enum_class]
    for field in fields:
        if field.enum_class in generated | {f"{entity}Controller"}:
            raise ScaffoldError(
                f"enum field {field.name!r} clashes with the class {field.enum_class}"
            )
    if len(set(classes)) != len(classes):
        raise ScaffoldError(f"two enum fields would share a class name: {', '.join(classes)}")


def parse_fields(text: str, entity: str = "Entity") -> tuple[FieldSpec, ...]:
    """The comma-separated field list of `entity`; at least one field, no duplicates or
    clashing filters."""
    items = [item for item in _split_fields(text) if item.strip()]
    if not items:
        raise ScaffoldError('give at least one field, e.g. --fields "title:str"')
    fields = tuple(parse_field(item, entity) for item in items)
    names = [field.name for field in fields]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ScaffoldError(f"duplicate field: {', '.join(duplicates)}")
    _check_enum_classes(entity, fields)
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


def make_entity(
    name: str,
    fields_text: str,
    owner: bool,
    root: Path,
    parent: str | None = None,
    *,
    tenant: bool = False,
) -> Entity:
    """Validate the command line against the project; raise `ScaffoldError` on any problem.
    `parent` names a registered model whose rows the new entity's rows belong to; `tenant`
    makes the rows belong to an organization instead."""
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
    if snake in {"core", "app", "routers", "configs", "tests", "alembic", "models", "scaffold"}:
        raise ScaffoldError(f"entity name {name!r} clashes with a project package")
    fields = parse_fields(fields_text, name)
    if tenant:
        return _tenant_entity(name, snake, plural, fields, owner, parent)
    if parent is None:
        return Entity(name, snake, plural, fields, owner)
    if parent == name:
        raise ScaffoldError(f"entity {name!r} cannot be its own parent")
    from scaffold.parent import resolve_parent  # imports the project: only when asked

    spec = resolve_parent(root, parent)
    clash = next((field.name for field in fields if field.name == spec.field), None)
    if clash:
        raise ScaffoldError(f"field name {clash!r} is taken by the parent's foreign key")
    return Entity(name, snake, plural, fields, owner, spec)


def _tenant_entity(
    name: str,
    snake: str,
    plural: str,
    fields: tuple[FieldSpec, ...],
    owner: bool,
    parent: str | None,
) -> Entity:
    if parent is not None:
        raise ScaffoldError(
            "--tenant and --parent: a child is scoped through its parent; scaffold the parent "
            "with --tenant and the child with --parent"
        )
    if owner:
        raise ScaffoldError("--tenant and --owner: choose one (an organization's rows are shared)")
    if any(field.name == TENANT_FIELD for field in fields):
        raise ScaffoldError(f"field name {TENANT_FIELD!r} is taken by the organization's key")
    return Entity(name, snake, plural, fields, owner, tenant=True)
