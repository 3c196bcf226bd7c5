"""enum checks: users_and_threads.role refuses values outside Role (a named CHECK, as
`core.columns.enum_column` declares it); the messenger example's (alembic/versions/messenger/)

Revision ID: 0010
Revises: a14c0d5e7f21
Create Date: 2026-12-06 21:26:44.203539
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0010'
down_revision: str | Sequence[str] | None = 'a14c0d5e7f21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users_and_threads', schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f('ck_users_and_threads_participant_role'), "role IN ('creator', 'member')"
        )


def downgrade() -> None:
    with op.batch_alter_table('users_and_threads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_and_threads_participant_role'), type_='check')
