"""Input types for values every supported database can store.

SQLite stores what PostgreSQL refuses: a NUL character in text (`invalid byte sequence for
encoding "UTF8": 0x00`) and an aware time that leaves the calendar once converted to UTC
(`0001-01-01T00:00:00+14:00`). Refused where input is validated, they are a 422 naming the
field on every database instead of a 500 on one:

    class NoteCreate(CreateSchema):
        title: Annotated[Text, Field(max_length=200)]
        remind_at: Timestamp | None = None

The `Create`/`Update` schemas and filter sets refuse NUL in every text field anyway
(`refuse_nul`); use `Text` for query, path and form parameters, and to document the rule.

An integer beyond 64 bits crashes the driver (SQLite: OverflowError; PostgreSQL: out of range
for bigint). The same schemas refuse one in every field (`refuse_unstorable`); use `Int64` or
`Position` for query, path and form parameters and for frames a socket receives.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AfterValidator, AwareDatetime, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

NUL = "\x00"
NO_NUL_PATTERN = "^[^\\u0000]*$"
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def refuse_nul(value: Any) -> Any:
    """`value` unchanged; a 422 error if it is, or holds, text with a NUL character."""
    if isinstance(value, str):
        if NUL in value:
            raise PydanticCustomError("text_nul", "Text must not contain NUL characters.")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            refuse_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key)
            refuse_nul(item)
    return value


def refuse_unstorable(value: Any) -> Any:
    """`value` unchanged; a 422 error if it is, or holds, text with a NUL character or an
    integer outside what a BIGINT column holds."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise PydanticCustomError(
                "int_range", "The number is outside the range a database holds (64-bit)."
            )
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            refuse_unstorable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable(key)
            refuse_unstorable(item)
    else:
        refuse_nul(value)
    return value


def in_utc(value: datetime) -> datetime:
    """The same instant in UTC; a 422 error if it has no UTC date (year 1 to 9999)."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_range", "The time is outside 0001-01-01 to 9999-12-31 in UTC."
        ) from None


@dataclass(frozen=True)
class NoNul:
    """Annotation: refuse NUL characters, and say so in the JSON schema (`pattern`).

    Not a `Field`, so it combines with `Query()`, `Form()` and `Field()` constraints."""

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(refuse_nul, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", NO_NUL_PATTERN)
        return json_schema


Text = Annotated[str, NoNul()]
"""A string without NUL characters (PostgreSQL's text types cannot hold one)."""

Int64 = Annotated[int, Interval(ge=INT64_MIN, le=INT64_MAX)]
"""An integer a BIGINT column holds (beyond it: a 422, not a driver's overflow)."""

Position = Annotated[int, Interval(ge=0, le=INT64_MAX)]
"""A position, count or offset: 0 up to what a BIGINT column holds (e.g. `?after=<seq>`)."""

Timestamp = Annotated[AwareDatetime, AfterValidator(in_utc)]
"""An aware time with a date in UTC, given back in UTC (naive times are a 422)."""
