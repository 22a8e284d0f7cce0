"""SQLite databases on files for the store's tests: made as the service makes them, tables created."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.store.db import create_engine
from handoff.store.models import Base


async def sqlite_engine(path: Path, *, busy_timeout_ms: int | None = None) -> AsyncEngine:
    """`create_engine`'s SQLite at `path` with every table; `busy_timeout_ms` replaces its busy timeout."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    if busy_timeout_ms is not None:
        event.listen(engine.sync_engine, "connect",
                     lambda dbapi, _record: dbapi.execute(f"PRAGMA busy_timeout={busy_timeout_ms}"))
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return engine


async def traced(engine: AsyncEngine) -> list[str]:
    """Every statement SQLite runs for the engine from now on (BEGIN and COMMIT too): first word, whole BEGINs."""
    statements: list[str] = []

    def trace(sql: str) -> None:
        statements.append(sql if sql.startswith("BEGIN") else sql.split()[0])

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(lambda driver: driver.set_trace_callback(trace))

    await engine.dispose()  # connections made from now on are traced
    event.listen(engine.sync_engine, "connect", on_connect)
    return statements
