"""api keys follow the account's token version: api_keys.token_version (existing keys take
their owner's current version, so they keep working until the next account-wide revocation)

Revision ID: 0013
Revises: 0012_2fa
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012_2fa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('token_version', sa.Integer(), server_default='0', nullable=False)
        )
    op.execute(
        'UPDATE api_keys SET token_version = '
        '(SELECT users.token_version FROM users WHERE users.id = api_keys.user_id)'
    )


def downgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('token_version')
