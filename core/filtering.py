"""Filters as typed query models, and sorting by an allowlist.

A filter set declares one field per query parameter; each field says which column it filters and
how — user input never picks a column:

    class ProjectFilters(FilterSet):
        status: list[Status] | None = Filter(Project.status, "in")  # ?status=a&status=b
        name: str | None = Filter(Project.name, "contains")
        due_from: date | None = Filter(Project.due, ">=")
        due_to: date | None = Filter(Project.due, "<=")
        archived: bool | None = Filter(Project.archived_at, "is_not_null")

A filter left out (None, or an empty list) filters nothing. What a column and an operator cannot
say goes in `apply`, which calls `super().apply(stmt)` for the declared ones.
"""

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import Select
from sqlalchemy.sql import ColumnElement

from core.columns import integer_bound
from core.errors import InvalidInput, field_error
from core.fields import refuse_unstorable

MAX_SORT_KEYS = 3
MAX_FILTER_VALUES = 100
"""The most values one `in`/`not_in` filter takes (`?status=a&status=b…`); more is a 422."""
MAX_FILTER_TEXT = 200
"""The longest text a `contains` filter takes unless it says otherwise (`max_length=`)."""

Operator = Literal[
    "==", "!=", "in", "not_in", ">", ">=", "<", "<=", "contains", "is_null", "is_not_null"
]
"""How a declared filter compares its column with the value given: `in`/`not_in` take a list
(repeated query keys), `contains` text (any case, LIKE wildcards taken literally), `is_null`
and `is_not_null` a bool (`false` asks for the opposite)."""

_CLAUSES: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "in": lambda column, values: column.in_(values),
    "not_in": lambda column, values: column.not_in(values),
    "contains": lambda column, text: contains(column, text),
    "is_null": lambda column, yes: column.is_(None) if yes else column.is_not(None),
    "is_not_null": lambda column, yes: column.is_not(None) if yes else column.is_(None),
}

_DESCRIPTIONS = {
    "==": "Equal to this value.",
    "!=": "Not equal to this value.",
    ">": "Greater than this value.",
    ">=": "This value or greater.",
    "<": "Less than this value.",
    "<=": "This value or less.",
    "in": "Any of these values (repeat the parameter for each).",
    "not_in": "None of these values (repeat the parameter for each).",
    "contains": "Contains this text, in any case.",
    "is_null": "`true`: no value set; `false`: a value set.",
    "is_not_null": "`true`: a value set; `false`: no value set.",
}


@dataclass(frozen=True)
class Lookup:
    """What a declared filter does: compare `column` with the field's value by `operator`."""

    column: Any
    operator: Operator

    def clause(self, value: Any) -> ColumnElement[bool] | None:
        """The WHERE clause for `value`, or None when it asks for nothing: None, an empty list,
        empty text to search for."""
        if value is None or (not value and isinstance(value, list | tuple | set | frozenset)):
            return None
        if self.operator == "contains" and not value:
            return None
        return _CLAUSES[self.operator](self.column, value)


def Filter(  # noqa: N802 - spelled like pydantic's `Field`, which it returns
    column: Any, operator: Operator = "==", **field: Any
) -> Any:
    """A filter set field that filters `column` by `operator`; defaults to None (no filter).

    `field` goes to pydantic's `Field` (`description`, `max_length`, `ge`…). Lists of `in` and
    `not_in` hold at most `MAX_FILTER_VALUES` items, `contains` text `MAX_FILTER_TEXT`
    characters, unless `max_length` says otherwise. The field's type decides how the value is
    parsed and documented: `list[Status]` lists the enum's values in OpenAPI.
    """
    if operator not in _CLAUSES:
        raise ValueError(f"unknown filter operator {operator!r}; use one of {', '.join(_CLAUSES)}")
    if operator in ("in", "not_in"):
        field.setdefault("max_length", MAX_FILTER_VALUES)
    elif operator == "contains":
        field.setdefault("max_length", MAX_FILTER_TEXT)
    field.setdefault("description", _DESCRIPTIONS[operator])
    info = Field(default=field.pop("default", None), **field)
    info.metadata.append(Lookup(column, operator))
    return info


class FilterSet(BaseModel):
    """Base of a controller's filters: declare fields with `Filter(column, operator)`; override
    `apply` for the rest. Text with a NUL character, or an integer beyond 64 bits, is a 422 in
    every field (use
    `core.fields.Timestamp` for times)."""

    model_config = ConfigDict(frozen=True)

    lookups: ClassVar[Mapping[str, Lookup]] = {}
    """The declared filters by field name (filled when the class is defined)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.lookups = {
            name: item
            for name, info in cls.model_fields.items()
            for item in info.metadata
            if isinstance(item, Lookup)
        }
        for name, lookup in cls.lookups.items():
            _check_annotation(cls, name, lookup)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_unstorable(cls, value: Any, info: ValidationInfo) -> Any:
        lookup = cls.lookups.get(info.field_name or "")
        if lookup is not None:
            _refuse_beyond_column(value, lookup.column)
        return refuse_unstorable(value)

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """Add the WHERE clause of every declared filter that was given to `stmt`.

        Override for filters a column and an operator cannot say, and call
        `super().apply(stmt)` so the declared ones still apply."""
        for name, lookup in self.lookups.items():
            clause = lookup.clause(getattr(self, name))
            if clause is not None:
                stmt = stmt.where(clause)
        return stmt

    def includes_deleted(self) -> bool:
        """Whether these filters look at soft-deleted rows too (e.g. `?deleted=true`), which
        lists otherwise hide. Override with the field that asks for them."""
        return False


def _check_annotation(cls: type[FilterSet], name: str, lookup: Lookup) -> None:
    """Refuse, when the class is defined, a field whose type cannot carry its operator's value."""
    annotation = cls.model_fields[name].annotation
    kinds = {getattr(arg, "__origin__", arg) for arg in get_args(annotation) or (annotation,)}
    wants_list = lookup.operator in ("in", "not_in")
    if wants_list != (list in kinds):
        shape = "a list[...]" if wants_list else "a single value"
        raise TypeError(f"{cls.__name__}.{name}: the {lookup.operator!r} filter takes {shape}")
    if lookup.operator in ("is_null", "is_not_null") and bool not in kinds:
        raise TypeError(f"{cls.__name__}.{name}: the {lookup.operator!r} filter takes a bool")


def _refuse_beyond_column(value: Any, column: Any) -> None:
    """A 422 error for a number the filtered integer column cannot hold (PostgreSQL refuses to
    compare an INTEGER column with a parameter beyond 32 bits)."""
    bound = integer_bound(getattr(column, "type", None))
    if bound is None:
        return
    values = value if isinstance(value, list | tuple | set | frozenset) else [value]
    for item in values:
        if isinstance(item, int) and not isinstance(item, bool) and not -bound - 1 <= item <= bound:
            raise PydanticCustomError("int_range", "At most {bound} in size.", {"bound": bound})


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match with LIKE wildcards in `text` escaped."""
    return column.icontains(text, autoescape=True)  # type: ignore[no-any-return]


def parse_sort(
    sort: str | None, allowed: Mapping[str, Any], default: str
) -> list[ColumnElement[Any]]:
    """`"-created_at,title"` → ORDER BY clauses, only from `allowed`; anything else is a 422."""
    terms = [term.strip() for term in (sort or default).split(",") if term.strip()]
    if len(terms) > MAX_SORT_KEYS:
        raise InvalidInput(
            errors=[field_error(["query", "sort"], f"At most {MAX_SORT_KEYS} sort keys.")]
        )
    clauses: list[ColumnElement[Any]] = []
    for term in terms:
        name = term.removeprefix("-")
        if name not in allowed:
            options = ", ".join(sorted(allowed))
            raise InvalidInput(
                f"Cannot sort by {name!r}.",
                errors=[field_error(["query", "sort"], f"Unknown sort field; allowed: {options}")],
            )
        column = allowed[name]
        clauses.append(column.desc() if term.startswith("-") else column.asc())
    return clauses
