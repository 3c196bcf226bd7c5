"""stored files: indexes for the sweep (core/files/housekeeping.py)

Revision ID: 0016_files_gc
Revises: 0015_orgs
Create Date: 2026-12-07 04:10:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0016_files_gc'
down_revision: str | Sequence[str] | None = '0015_orgs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.create_index(
            'ix_stored_files_status_expires_at', ['status', 'expires_at'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_stored_files_attached_to'), ['attached_to'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_files_attached_to'))
        batch_op.drop_index('ix_stored_files_status_expires_at')
