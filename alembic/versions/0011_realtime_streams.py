"""realtime streams: one table of kept events for every kind of stream (realtime_events), a
counter per stream whose kind keeps none on its own row (realtime_streams); the threads' kept
events move over (kind "threads"), each frame gaining its `stream` key

Where the project has the messenger example (alembic/versions/messenger/): it follows the
messenger's 0010 and moves its thread_events; a project made from the template without the
example has neither, and this revision follows a14c0d5e7f21 and creates the two tables only.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 10:00:00.000000
"""

import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import core.db
from core.migrations import revisions_in


revision: str = '0011'
down_revision: str | Sequence[str] | None = revisions_in('messenger', '0010') or 'a14c0d5e7f21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSENGER = bool(revisions_in('messenger', '0007_rt13'))  # thread_events exists
BATCH = 5000
THREAD_EVENTS = sa.table(
    'thread_events',
    sa.column('id', sa.Uuid()), sa.column('created_at', core.db.UTCDateTime(timezone=True)),
    sa.column('thread_id', sa.Uuid()), sa.column('seq', sa.BigInteger()),
    sa.column('type', sa.String()), sa.column('frame', sa.Text()),
)
EVENTS = sa.table(
    'realtime_events',
    sa.column('id', sa.Uuid()), sa.column('created_at', core.db.UTCDateTime(timezone=True)),
    sa.column('kind', sa.String()), sa.column('stream_id', sa.Uuid()),
    sa.column('seq', sa.BigInteger()), sa.column('type', sa.String()),
    sa.column('frame', sa.Text()),
)


def _batches(rows: Any) -> Iterator[list[Any]]:
    while batch := rows.fetchmany(BATCH):
        yield list(batch)


def _with_stream(frame: str, thread_id: Any) -> str:
    body = json.loads(frame)
    if isinstance(body, dict):
        body = {'type': body.get('type'), 'stream': f'threads:{thread_id}', **body}
    return json.dumps(body, separators=(',', ':'))


def upgrade() -> None:
    op.create_table('realtime_events',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('stream_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('frame', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_realtime_events'))
    )
    with op.batch_alter_table('realtime_events', schema=None) as batch_op:
        batch_op.create_index('uq_realtime_events_stream_seq', ['kind', 'stream_id', 'seq'], unique=True)
    op.create_table('realtime_streams',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('stream_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'stream_id', name=op.f('pk_realtime_streams'))
    )
    if MESSENGER:
        _move_thread_events()


def _move_thread_events() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(THREAD_EVENTS).order_by(THREAD_EVENTS.c.id))
    for batch in _batches(rows):
        bind.execute(sa.insert(EVENTS), [
            {'id': r.id, 'created_at': r.created_at, 'kind': 'threads', 'stream_id': r.thread_id,
             'seq': r.seq, 'type': r.type, 'frame': _with_stream(r.frame, r.thread_id)}
            for r in batch
        ])
    with op.batch_alter_table('thread_events', schema=None) as batch_op:
        batch_op.drop_index('uq_thread_events_thread_seq')
    op.drop_table('thread_events')


def downgrade() -> None:
    if MESSENGER:
        _restore_thread_events()
    op.drop_table('realtime_streams')
    with op.batch_alter_table('realtime_events', schema=None) as batch_op:
        batch_op.drop_index('uq_realtime_events_stream_seq')
    op.drop_table('realtime_events')


def _restore_thread_events() -> None:
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
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(EVENTS).where(EVENTS.c.kind == 'threads').order_by(EVENTS.c.id)
    )
    for batch in _batches(rows):
        bind.execute(sa.insert(THREAD_EVENTS), [
            {'id': r.id, 'created_at': r.created_at, 'thread_id': r.stream_id, 'seq': r.seq,
             'type': r.type[:40], 'frame': r.frame}
            for r in batch
        ])
