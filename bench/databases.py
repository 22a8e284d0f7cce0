"""What the database benchmarks share: a bulk seed, and one measurement on SQLite then PostgreSQL when installed."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from handoff.store.db import create_engine, session_factory
from tests.service.support.servers import postgres_bin, start_postgres

CHUNK = 5000
UrlFor = Callable[[str], str]  # a database name → the URL of a new, empty database


async def bulk_insert(url: str, batches: Iterable[tuple[type, Sequence[dict[str, Any]]]], *, analyze: bool) -> None:
    """Every batch in one transaction, CHUNK rows a statement; then ANALYZE when asked: planner statistics, as
    autovacuum keeps them on a live server (a never-analyzed bulk load is timed with the planner's blind guesses)."""
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        for model, rows in batches:
            for start in range(0, len(rows), CHUNK):
                await session.execute(insert(model), rows[start:start + CHUNK])
    if analyze:
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("ANALYZE")
    await engine.dispose()


async def on_each_database(label: str, scratch: Path, sqlite_only: bool,
                           measure: Callable[[str, UrlFor], Awaitable[None]]) -> None:
    """`measure(name, url_for)` on SQLite (files under `scratch`), then on a PostgreSQL server of its own."""
    await measure("sqlite", lambda name: f"sqlite+aiosqlite:///{scratch / name}.sqlite3")
    if sqlite_only:
        return
    if postgres_bin() is None:
        print(f"{label} postgresql: skipped, Debian package postgresql is not installed")
        return
    server = start_postgres()
    try:
        await measure("postgresql", server.create_database)
    finally:
        server.stop()


@dataclass(frozen=True)
class Reader:
    """Who reads in a bench: the reading rule's role and teams, as an agent row would give them."""

    id: str
    role: str
    teams: tuple[str, ...]


# A supervisor reads every case; a care agent only the care team's: the two costs of the reading rule.
READERS = {"supervisor": Reader("bench-supervisor", "supervisor", ()),
           "care agent": Reader("bench-care", "agent", ("care",))}
