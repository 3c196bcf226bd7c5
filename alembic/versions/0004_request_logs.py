"""request logs: one row per API request served (core.platform.requestlog)

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-25 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db


revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_request_logs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_request_logs")),
    )
    with op.batch_alter_table("api_request_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_request_logs_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_api_request_logs_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            "ix_api_request_logs_user_id_created_at", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_api_request_logs_route_created_at", ["route", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_api_request_logs_status_created_at", ["status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_request_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_api_request_logs_status_created_at")
        batch_op.drop_index("ix_api_request_logs_route_created_at")
        batch_op.drop_index("ix_api_request_logs_user_id_created_at")
        batch_op.drop_index(batch_op.f("ix_api_request_logs_request_id"))
        batch_op.drop_index(batch_op.f("ix_api_request_logs_created_at"))
    op.drop_table("api_request_logs")
