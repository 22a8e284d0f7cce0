"""Migration 0002_whatsapp creates exactly what the models declare, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from handoff.store.db import create_engine
from handoff.store.models import Base

OURS = ("inbound_webhooks", "ix_inbound_webhooks_unprocessed", "ix_outbox_provider_message_id")


def _ours(diff: object) -> bool:
    return any(name in repr(diff) for name in OURS)


async def test_the_whatsapp_migration_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        diffs = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}),
                                          Base.metadata))
        heads = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
    await engine.dispose()
    assert [diff for diff in diffs if _ours(diff)] == []
    assert "0002_whatsapp" in heads
