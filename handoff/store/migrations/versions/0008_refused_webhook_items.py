"""refused webhook items: the parts of a signed batch that failed their schema, kept for operators

Revision ID: 0008_refused_webhook_items
Revises: 0002_whatsapp
Create Date: 2026-12-01 02:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_refused_webhook_items"
down_revision = "0002_whatsapp"
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "refused_webhook_items",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("webhook_id", BigIntId, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["webhook_id"], ["inbound_webhooks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("refused_webhook_items") as batch:
        batch.create_index("ix_refused_webhook_items_webhook_id", ["webhook_id"], unique=False)
        batch.create_index("ix_refused_webhook_items_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refused_webhook_items") as batch:
        batch.drop_index("ix_refused_webhook_items_created_at")
        batch.drop_index("ix_refused_webhook_items_webhook_id")
    op.drop_table("refused_webhook_items")
