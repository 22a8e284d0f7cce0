"""qa: reviewers' scores of whole cases against operations.yml's scorecards

Revision ID: 0012_qa
Revises: 0001
Create Date: 2026-12-01 11:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_qa"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("reviewer_id", sa.String(length=32), nullable=False),
        sa.Column("scorecard", sa.String(length=40), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("critical_failed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["reviewer_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "reviewer_id", name="uq_qa_reviews_case_reviewer"),
    )
    op.create_index("ix_qa_reviews_agent_week", "qa_reviews", ["agent_id", "week"])
    op.create_index("ix_qa_reviews_week", "qa_reviews", ["week"])


def downgrade() -> None:
    op.drop_index("ix_qa_reviews_week", table_name="qa_reviews")
    op.drop_index("ix_qa_reviews_agent_week", table_name="qa_reviews")
    op.drop_table("qa_reviews")
