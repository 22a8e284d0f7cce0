"""notifications: messages other systems ask the service to send first; cases opened by one are proactive

Revision ID: 0013_notifications
Revises: 0012_integrations
Create Date: 2026-12-01 12:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_notifications"
down_revision = "0012_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("integration_id", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("integration_id", "idempotency_key", name="uq_notifications_idempotency"),
    )
    op.create_index("ix_notifications_status_due", "notifications", ["status", "due_at"])
    op.create_index("ix_notifications_customer_sent", "notifications", ["customer_id", "sent_at"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("proactive", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("proactive")
    op.drop_index("ix_notifications_customer_sent", table_name="notifications")
    op.drop_index("ix_notifications_status_due", table_name="notifications")
    op.drop_table("notifications")
