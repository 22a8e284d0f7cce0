"""work leases: a worker's claim on a stored webhook, a pending turn or the NLU harvest lapses if it dies

Revision ID: 0014_work_leases
Revises: 0006_nlu_harvest, 0008_refused_webhook_items
Create Date: 2026-12-01 14:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_work_leases"
down_revision = ("0006_nlu_harvest", "0008_refused_webhook_items")
branch_labels = None
depends_on = None

TABLES = ("inbound_webhooks", "pending_turns", "nlu_harvest_marks")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("claimed_until")
