"""inbox: agent sessions, audit log, routing columns and indexes

Revision ID: 0003_inbox
Revises: 0001
Create Date: 2026-11-25 12:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_inbox"
down_revision = "0001"
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("csat_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_cases_queue", ["status", "team", "priority", "queued_at"])
        batch.create_index("ix_cases_assignee_status", ["assignee_id", "status"])
    with op.batch_alter_table("timeline_events") as batch:
        batch.create_index("ix_timeline_customer_id", ["customer_id", "id"])
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agent_sessions_agent_id", "agent_sessions", ["agent_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_index("ix_audit_case", "audit_log", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_case", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_agent_sessions_agent_id", table_name="agent_sessions")
    op.drop_table("agent_sessions")
    with op.batch_alter_table("timeline_events") as batch:
        batch.drop_index("ix_timeline_customer_id")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_assignee_status")
        batch.drop_index("ix_cases_queue")
        batch.drop_column("csat_requested_at")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("active")
        batch.drop_column("last_assigned_at")
