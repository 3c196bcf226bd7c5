"""Filters as typed query models, and sorting by an allowlist.

A filter set maps each field to a column by hand — user input never picks a column:

    class TodoFilters(FilterSet):
        done: bool | None = None

        def apply(self, stmt):
            if self.done is not None:
                stmt = stmt.where(Todo.done == self.done)
            return stmt
"""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import Select
from sqlalchemy.sql import ColumnElement

from core.errors import InvalidInput, field_error
from core.fields import refuse_nul

MAX_SORT_KEYS = 3


class FilterSet(BaseModel):
    """Base of a controller's filters; declare fields, then write `apply` by hand. Text with a
    NUL character is a 422 in every field (use `core.fields.Timestamp` for times)."""

    model_config = ConfigDict(frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return refuse_nul(value)

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """Add this filter set's WHERE clauses to `stmt`. Override; the base filters nothing."""
        return stmt

    def includes_deleted(self) -> bool:
        """Whether these filters look at soft-deleted rows too (e.g. `?deleted=true`), which
        lists otherwise hide. Override with the field that asks for them."""
        return False


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
