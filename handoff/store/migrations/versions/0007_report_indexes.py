"""report indexes: the dashboard's range scan, recontact self-join and first-agent-reply lookups

Revision ID: 0007_report_indexes
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""
from __future__ import annotations

from alembic import op

revision = "0007_report_indexes"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_created", "cases", ["created_at"])
    op.create_index("ix_cases_customer_created", "cases", ["customer_id", "created_at"])
    op.create_index("ix_timeline_case_created", "timeline_events", ["case_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_timeline_case_created", table_name="timeline_events")
    op.drop_index("ix_cases_customer_created", table_name="cases")
    op.drop_index("ix_cases_created", table_name="cases")
