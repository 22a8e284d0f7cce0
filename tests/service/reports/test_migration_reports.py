"""Migration 0005_reports creates exactly the nlu_samples table the model declares, and steps back cleanly."""
from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from handoff.store import migrate
from handoff.store.db import create_engine
from handoff.store.models import Base


async def tables_and_diffs(database_url: str) -> tuple[set[str], list, set[str]]:
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        diffs = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}),
                                          Base.metadata))
        heads = await connection.run_sync(lambda sync: set(MigrationContext.configure(sync).get_current_heads()))
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return tables, diffs, heads


async def test_the_reports_migration_matches_the_model_and_downgrades(database_url: str) -> None:
    tables, diffs, heads = await tables_and_diffs(database_url)
    assert "0005_reports" in heads and "nlu_samples" in tables
    assert [diff for diff in diffs if "nlu_samples" in repr(diff)] == []
    await asyncio.to_thread(migrate.downgrade, database_url, "0005_reports@-1")  # Alembic runs its own loop
    tables, _, heads = await tables_and_diffs(database_url)
    assert "nlu_samples" not in tables and "0005_reports" not in heads and "cases" in tables
