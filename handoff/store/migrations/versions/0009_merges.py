"""merges: reversible merges of customers and of open cases, suggestions from unverified evidence

Revision ID: 0009_merges
Revises: 0001
Create Date: 2026-12-01 03:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_merges"
down_revision = "0001"
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("merged_into_case_id", sa.String(length=32), nullable=True))
        batch.create_foreign_key("fk_cases_merged_into_case_id", "cases", ["merged_into_case_id"], ["id"])
    op.create_table(
        "merges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("survivor_customer_id", sa.String(length=32), nullable=False),
        sa.Column("absorbed_customer_id", sa.String(length=32), nullable=False),
        sa.Column("kept_case_id", sa.String(length=32), nullable=True),
        sa.Column("absorbed_case_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["survivor_customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["absorbed_customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["kept_case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["absorbed_case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_merges_survivor", "merges", ["survivor_customer_id", "created_at"])
    op.create_index("ix_merges_absorbed", "merges", ["absorbed_customer_id", "created_at"])
    op.create_table(
        "merge_suggestions",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("other_customer_id", sa.String(length=32), nullable=False),
        sa.Column("evidence_kind", sa.String(length=32), nullable=False),
        sa.Column("evidence_value", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("merge_id", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["other_customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "other_customer_id", "evidence_kind", "evidence_value",
                            name="uq_merge_suggestion_evidence"),
    )
    op.create_index("ix_merge_suggestions_other", "merge_suggestions", ["other_customer_id"])


def downgrade() -> None:
    op.drop_index("ix_merge_suggestions_other", table_name="merge_suggestions")
    op.drop_table("merge_suggestions")
    op.drop_index("ix_merges_absorbed", table_name="merges")
    op.drop_index("ix_merges_survivor", table_name="merges")
    op.drop_table("merges")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_merged_into_case_id", type_="foreignkey")
        batch.drop_column("merged_into_case_id")
