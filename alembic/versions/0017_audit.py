"""audit: the audit log's entries (core/audit.py)

Revision ID: 0017_audit
Revises: 0016_files_gc
Create Date: 2026-12-07 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db


revision: str = '0017_audit'
down_revision: str | Sequence[str] | None = '0016_files_gc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('organization_id', sa.Uuid(), nullable=True),
    sa.Column('entity_type', sa.String(length=100), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_entity_type_entity_id', ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index('ix_audit_entries_organization_id_created_at', ['organization_id', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_user_id_created_at', ['user_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_user_id_created_at')
        batch_op.drop_index('ix_audit_entries_organization_id_created_at')
        batch_op.drop_index('ix_audit_entries_entity_type_entity_id')
        batch_op.drop_index(batch_op.f('ix_audit_entries_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor'))

    op.drop_table('audit_entries')
