"""integrations: other systems' API tokens (hashed, scoped, revocable) and their outgoing webhooks

Revision ID: 0012_integrations
Revises: 0001
Create Date: 2026-12-01 10:55:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_integrations"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("webhook_events", sa.JSON(), nullable=False),
        sa.Column("secret_generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash", name="uq_integrations_token_hash"),
    )
    # The webhook delivery log reads one integration's outbox rows, newest first.
    op.create_index("ix_outbox_channel_recipient", "outbox", ["channel", "recipient", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_channel_recipient", table_name="outbox")
    op.drop_table("integrations")
