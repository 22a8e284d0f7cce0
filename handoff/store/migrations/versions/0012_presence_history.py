"""presence_history: every move of an agent to online, away or offline (occupancy's online time, staffing)

Revision ID: 0012_presence_history
Revises: 0001
Create Date: 2026-12-01 11:05:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_presence_history"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "presence_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("presence", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_presence_history_agent", "presence_history", ["agent_id", "changed_at"])
    op.create_index("ix_presence_history_changed", "presence_history", ["changed_at"])


def downgrade() -> None:
    op.drop_index("ix_presence_history_changed", table_name="presence_history")
    op.drop_index("ix_presence_history_agent", table_name="presence_history")
    op.drop_table("presence_history")
