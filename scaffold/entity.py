"""The new entity from the command line: its names and fields, validated against the project."""

import keyword
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
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
    "datetime": Kind("datetime", "Timestamp", "", "", "range", True,
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
    if snake in {"core", "app", "routers", "configs", "tests", "alembic", "models", "scaffold"}:
        raise ScaffoldError(f"entity name {name!r} clashes with a project package")
    return Entity(name, snake, plural, parse_fields(fields_text), owner)
