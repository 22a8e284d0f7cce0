"""reports: the nlu_samples table of the designers' review loop

Revision ID: 0005_reports
Revises: 0001
Create Date: 2026-11-25 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_reports"
down_revision = "0001"
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "nlu_samples",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("handoff_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("predicted_intent", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("review_tag", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "event_id", name="uq_nlu_samples_source_event"),
    )
    op.create_index("ix_nlu_samples_status", "nlu_samples", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_nlu_samples_status", table_name="nlu_samples")
    op.drop_table("nlu_samples")
