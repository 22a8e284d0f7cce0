"""audit_checkpoints: chains' heads signed with the service's Ed25519 key (AUDIT_SIGNING_KEY, never stored)

Revision ID: 0012_audit_checkpoints
Revises: 0001
Create Date: 2026-12-01 12:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_audit_checkpoints"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_checkpoints_chain_seq", "audit_checkpoints", ["chain", "seq"])
    op.create_index("ix_audit_checkpoints_signed_at", "audit_checkpoints", ["signed_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_checkpoints_signed_at", table_name="audit_checkpoints")
    op.drop_index("ix_audit_checkpoints_chain_seq", table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
