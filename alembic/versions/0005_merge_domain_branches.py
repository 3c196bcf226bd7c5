"""Merge the users/auth, messenger and request-log branches into one head.

The messenger's revision is joined only where the project has it (alembic/versions/messenger/:
a project made from the template without the example has not).

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-11-25 10:02:49.114327
"""

from collections.abc import Sequence

from core.migrations import revisions_in


revision: str = '0005'
down_revision: str | Sequence[str] | None = ('0002', '0004', *revisions_in('messenger', '0003'))
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
