"""Migration 0003_inbox creates exactly what the models declare, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from handoff.store.db import create_engine
from handoff.store.models import Base

OURS = ("agent_sessions", "audit_log", "ix_audit_case", "ix_cases_queue", "ix_cases_assignee_status",
        "ix_timeline_customer_id", "last_assigned_at", "'active'", "csat_requested_at")


async def test_the_inbox_migration_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        diffs = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}),
                                          Base.metadata))
        heads = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
    await engine.dispose()
    assert [diff for diff in diffs if any(name in repr(diff) for name in OURS)] == []
    assert "0003_inbox" in heads
