"""The async engine and session factory, with SQLite tuned for the embedded mode."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def ensure_sqlite_dir(database_url: str) -> None:
    """A fresh clone has no var/ directory; SQLite will not create it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(database_url: str) -> AsyncEngine:
    """One engine per process; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    ensure_sqlite_dir(database_url)
    is_sqlite = database_url.startswith("sqlite")
    engine = create_async_engine(
        database_url,
        pool_pre_ping=not is_sqlite,
        connect_args={"timeout": 30} if is_sqlite else {},
    )
    if is_sqlite:

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # The driver's own implicit BEGIN comes only before the first write, after the reads that
            # decided it; we begin ourselves (below) so a transaction's reads and writes are one unit.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
            # Take the write lock up front: two writers (tasks or worker processes) then queue on
            # busy_timeout instead of one reading a stale "last event" and failing at commit.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions keep objects usable after commit, as services hand them to channels."""
    return async_sessionmaker(engine, expire_on_commit=False)
