"""realtime: per-thread event ids, the event log (thread_events) and read state

Revision ID: 0007_rt13
Revises: 0006
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db


revision: str = '0007_rt13'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text('deleted_at IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_seq', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('users_and_threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_seq', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_read_seq', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.create_index(
            'ix_messages_thread_seq_live', ['thread_id', 'seq'], unique=False,
            postgresql_where=LIVE, sqlite_where=LIVE,
        )
    op.create_table('thread_events',
    sa.Column('thread_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('frame', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_events_thread_id_threads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_events'))
    )
    with op.batch_alter_table('thread_events', schema=None) as batch_op:
        batch_op.create_index('uq_thread_events_thread_seq', ['thread_id', 'seq'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('thread_events', schema=None) as batch_op:
        batch_op.drop_index('uq_thread_events_thread_seq')
    op.drop_table('thread_events')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_thread_seq_live', postgresql_where=LIVE, sqlite_where=LIVE)
        batch_op.drop_column('seq')
    with op.batch_alter_table('users_and_threads', schema=None) as batch_op:
        batch_op.drop_column('last_read_seq')
        batch_op.drop_column('joined_seq')
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_column('event_seq')
