"""search: the full-text index over customer messages, and the indexes the filtered case list reads

SQLite: an FTS5 table over the timeline's customer messages, kept by triggers; PostgreSQL: a GIN index on
their folded words (store/search_index.py). Both are built here for the events already written.

Revision ID: 0012_search
Revises: 0001
Create Date: 2026-12-01 11:10:00
"""
from __future__ import annotations

from alembic import op

from handoff.store.search_index import ddl

revision = "0012_search"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in ddl(op.get_bind().dialect.name, up=True):
        op.execute(statement)
    op.create_index("ix_cases_team_status_created", "cases", ["team", "status", "created_at"])
    op.create_index("ix_cases_status_created", "cases", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_status_created", table_name="cases")
    op.drop_index("ix_cases_team_status_created", table_name="cases")
    for statement in ddl(op.get_bind().dialect.name, up=False):
        op.execute(statement)
