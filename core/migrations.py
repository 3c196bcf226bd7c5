"""Run Alembic from code (the embedded default migrates itself at start-up), and the settings
autogenerate runs with (`alembic/env.py`)."""

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import ops
from sqlalchemy import CheckConstraint, Column, MetaData
from sqlalchemy.sql import visitors

from alembic import command

AUTOGENERATE_PLUGINS = ["alembic.autogenerate.*", "alembic.ext.checkconstraint_byname"]
"""Alembic's default comparisons plus named CHECK constraints, compared by name: every CHECK
here has a name (the naming convention needs one), so an enum column's CHECK added to an
existing column, or dropped, shows up in a new revision and in `alembic check`."""

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VERSIONS = PROJECT_ROOT / "alembic" / "versions"


def revisions_in(folder: str, *revisions: str) -> tuple[str, ...]:
    """`revisions` when alembic/versions/<folder>/ exists, else none.

    A domain a project can be made without (the messenger example: docs/template.md) keeps its
    migrations in a folder of its own; a merge revision that joins them names them through this,
    so the chain stays whole when the folder is gone.
    """
    return revisions if (VERSIONS / folder).is_dir() else ()


def alembic_config(url: str | None = None) -> Config:
    """The project's Alembic config, optionally pointed at `url`."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    if url:
        config.attributes["url"] = url
    return config


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """`alembic upgrade heads` against `url` (blocking; env.py runs its own event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str | None = None) -> None:
    """`upgrade` in a worker thread, for use inside a running event loop."""
    await asyncio.to_thread(upgrade, url)


def skip_checks_added_with_their_column(
    context: MigrationContext, _revision: Any, directives: Iterable[Any]
) -> None:
    """`process_revision_directives` for `AUTOGENERATE_PLUGINS`: drop the CHECK of an enum
    (or boolean) column added in the same revision — `add_column` creates it with the column,
    and PostgreSQL refuses to create it twice."""
    metadata: MetaData = context.opts["target_metadata"]
    for script in directives:
        for upgrade in script.upgrade_ops_list:
            for table_ops in upgrade.ops:
                if isinstance(table_ops, ops.ModifyTableOps):
                    _skip_type_checks(metadata, table_ops)


def _skip_type_checks(metadata: MetaData, table_ops: ops.ModifyTableOps) -> None:
    key = f"{table_ops.schema}.{table_ops.table_name}" if table_ops.schema else table_ops.table_name
    table = metadata.tables.get(key)
    added = {op.column.name for op in table_ops.ops if isinstance(op, ops.AddColumnOp)}
    if table is None or not added:
        return
    with_column = {
        str(constraint.name)
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
        and getattr(constraint, "_type_bound", False)  # made by the column's type
        and _columns_of(constraint) <= added
    }
    table_ops.ops = [
        op
        for op in table_ops.ops
        if not (
            isinstance(op, ops.CreateCheckConstraintOp) and str(op.constraint_name) in with_column
        )
    ]


def _columns_of(constraint: CheckConstraint) -> set[str]:
    return {node.name for node in visitors.iterate(constraint.sqltext) if isinstance(node, Column)}
