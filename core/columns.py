"""Column types every supported database stores the same way.

An enum column is a VARCHAR holding the members' values, with a named CHECK constraint that
refuses any other value — the same DDL on SQLite and PostgreSQL, no database enum type to
migrate, and Alembic autogenerate sees it:

    class Status(StrEnum):
        ACTIVE = "active"
        ARCHIVED = "archived"

    class Project(CommonBase):
        status: Mapped[Status] = enum_column(Status, default=Status.ACTIVE)

The CHECK is named by the metadata's convention, `ck_<table>_<name>` (`name` defaults to the
enum's class name in snake_case: `ck_projects_status`). A value outside the enum is a 422 where
input is validated with the enum type, and a `Conflict` (409) if it reaches the database.
"""

import re
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Integer, SmallInteger
from sqlalchemy import Enum as EnumType
from sqlalchemy.orm import MappedColumn, mapped_column
from sqlalchemy.types import TypeEngine

E = TypeVar("E", bound=Enum)


def enum_type(enum: type[Enum], *, name: str | None = None, length: int | None = None) -> EnumType:
    """The column type of `enum_column`: VARCHAR(`length`, else the longest value) storing the
    members' values (not their names), with a CHECK constraint named `name` (else the enum's
    class name in snake_case)."""
    return EnumType(
        enum,
        name=name or _snake_case(enum.__name__),
        native_enum=False,
        create_constraint=True,
        length=length or max(len(str(member.value)) for member in enum),
        values_callable=_values,
    )


def enum_column(
    enum: type[E],
    *,
    name: str | None = None,
    length: int | None = None,
    **column: Any,
) -> MappedColumn[Any]:
    """A mapped column of `enum`'s members (see `enum_type` for `name` and `length`).

    `column` goes to `mapped_column` (`default=`, `index=`, `nullable=`…). Give `name` when a
    table has two columns of the same enum (each CHECK needs its own name), and `length` to keep
    an existing, wider column as it is."""
    return mapped_column(enum_type(enum, name=name, length=length), **column)


def _values(enum: type[Enum]) -> list[str]:
    return [str(member.value) for member in enum]


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def integer_bound(column_type: TypeEngine[Any] | None) -> int | None:
    """The largest value an integer column type holds (its smallest is `-bound - 1`): BIGINT
    64 bits, SMALLINT 16, INTEGER 32; None for other types (and None)."""
    if isinstance(column_type, BigInteger):
        return 2**63 - 1
    if isinstance(column_type, SmallInteger):
        return 2**15 - 1
    if isinstance(column_type, Integer):
        return 2**31 - 1
    return None
