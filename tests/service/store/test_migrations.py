"""The Alembic migrations, applied together, build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from handoff.store.db import create_engine
from handoff.store.migrate import alembic_config, downgrade, upgrade
from handoff.store.models import Base
from handoff.store.search_index import in_models


async def schema_diff_and_heads(database_url: str) -> tuple[list, set[str]]:
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        diffs = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True,
                                                                                   "include_name": in_models}),
                                          Base.metadata))
        heads = await connection.run_sync(lambda sync: set(MigrationContext.configure(sync).get_current_heads()))
    await engine.dispose()
    return diffs, heads


async def test_the_migrations_match_the_models(database_url: str) -> None:
    diffs, heads = await schema_diff_and_heads(database_url)
    assert diffs == []
    assert heads == set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


def test_every_migration_downgrades_and_upgrades_again(workdir) -> None:
    url = f"sqlite+aiosqlite:///{workdir / 'down-up.sqlite3'}"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)
