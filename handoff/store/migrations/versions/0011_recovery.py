"""recovery and opt-out: an abandoned web chat continued on WhatsApp once; a customer's WhatsApp opt-out

Revision ID: 0011_recovery
Revises: 0001
Create Date: 2026-12-01 07:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_recovery"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("whatsapp_opted_out_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("recovery_claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("recovery_claimed_at")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("whatsapp_opted_out_at")
