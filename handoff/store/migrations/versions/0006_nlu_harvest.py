"""nlu_harvest: how far the designers' harvester has read the assistant's timeline events

Revision ID: 0006_nlu_harvest
Revises: 0001
Create Date: 2026-11-25 13:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_nlu_harvest"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nlu_harvest_marks",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("nlu_harvest_marks")
