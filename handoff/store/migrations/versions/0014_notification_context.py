"""notification context: free-text notifications (no template), and the last one sent on a case for the assistant

Revision ID: 0014_notification_context
Revises: 0013_notifications
Create Date: 2026-12-01 14:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_notification_context"
down_revision = "0013_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("template", existing_type=sa.String(length=100), nullable=True)
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("notified", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("notified")
    op.execute("UPDATE notifications SET template = '' WHERE template IS NULL")
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("template", existing_type=sa.String(length=100), nullable=False)
