"""commitments: what agents promised on a case, with a due time; the customer's open ones kept on the customer

Revision ID: 0011_commitments
Revises: 0001
Create Date: 2026-12-01 07:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_commitments"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commitments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_by", sa.String(length=64), nullable=True),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_commitments_case", "commitments", ["case_id"])
    op.create_index("ix_commitments_customer_status", "commitments", ["customer_id", "status"])
    op.create_index("ix_commitments_status_due", "commitments", ["status", "due_at"])
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("open_commitments", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("open_commitments")
    op.drop_index("ix_commitments_status_due", table_name="commitments")
    op.drop_index("ix_commitments_customer_status", table_name="commitments")
    op.drop_index("ix_commitments_case", table_name="commitments")
    op.drop_table("commitments")
