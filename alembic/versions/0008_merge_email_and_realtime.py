"""Merge the email-flow and real-time read-state branches into one head.

The messenger's revision is joined only where the project has it (alembic/versions/messenger/:
a project made from the template without the example has not).

Revision ID: 0008
Revises: 0007, 0007_rt13
Create Date: 2026-12-01 10:40:00.000000
"""

from collections.abc import Sequence

from core.migrations import revisions_in


revision: str = '0008'
down_revision: str | Sequence[str] | None = ('0007', *revisions_in('messenger', '0007_rt13'))
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
