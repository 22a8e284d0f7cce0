"""overflow: the choices offered to an overflowed customer on the handoff, when, and the one they chose

Revision ID: 0011_overflow
Revises: 0011_routing_decision
Create Date: 2026-12-01 08:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_overflow"
down_revision = "0011_routing_decision"  # alters handoffs after it
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("overflow_offers", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("overflow_offered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("overflow_choice", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("overflow_chosen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("overflow_chosen_at")
        batch.drop_column("overflow_choice")
        batch.drop_column("overflow_offered_at")
        batch.drop_column("overflow_offers")
