"""verification codes: one-time codes sent over WhatsApp or read in a call, kept only as keyed hashes

Revision ID: 0010_verification_codes
Revises: 0001
Create Date: 2026-12-01 03:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_verification_codes"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("session_key", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("identity_kind", sa.String(length=16), nullable=False),
        sa.Column("identity_value", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_verification_codes_session", "verification_codes", ["session_key", "created_at"])
    op.create_index("ix_verification_codes_identity", "verification_codes",
                    ["identity_kind", "identity_value", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_verification_codes_identity", table_name="verification_codes")
    op.drop_index("ix_verification_codes_session", table_name="verification_codes")
    op.drop_table("verification_codes")
