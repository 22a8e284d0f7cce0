"""whatsapp: inbound webhook bodies kept until processed; outbox rows found by provider message id

Revision ID: 0002_whatsapp
Revises: 0001
Create Date: 2026-11-25 12:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_whatsapp"
down_revision = "0001"
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbound_webhooks",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inbound_webhooks") as batch:
        batch.create_index("ix_inbound_webhooks_unprocessed", ["channel", "processed_at"], unique=False)
    with op.batch_alter_table("outbox") as batch:
        batch.create_index("ix_outbox_provider_message_id", ["provider_message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_provider_message_id")
    with op.batch_alter_table("inbound_webhooks") as batch:
        batch.drop_index("ix_inbound_webhooks_unprocessed")
    op.drop_table("inbound_webhooks")
