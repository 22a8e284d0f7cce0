"""after hours: a case handed off while closed is kept for the opening, then routed once by the opening pass

Revision ID: 0011_after_hours
Revises: 0001
Create Date: 2026-12-01 08:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_after_hours"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("kept_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_cases_kept", "cases", ["status", "kept_until"])


def downgrade() -> None:
    op.drop_index("ix_cases_kept", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("opened_at")
        batch.drop_column("kept_until")
