"""case_reads: what each agent has read of each case (the lists' unread counts)

Revision ID: 0012_case_reads
Revises: 0001
Create Date: 2026-12-01 11:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_case_reads"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_reads",
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("agent_id", "case_id"),
    )


def downgrade() -> None:
    op.drop_table("case_reads")
