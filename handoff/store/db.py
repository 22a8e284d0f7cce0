"""The async engine and session factory, with SQLite tuned for the embedded mode."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from handoff.store.sqlite_driver import READ_ONLY, begin_reading, one_trip_url

READ_ONLY_OPTIONS = {READ_ONLY: True}


def ensure_sqlite_dir(database_url: str) -> None:
    """A fresh clone has no var/ directory; SQLite will not create it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(database_url: str) -> AsyncEngine:
    """One engine per process; SQLite gets WAL, a busy timeout, enforced foreign keys, and (through
    handoff.store.sqlite_driver) transactions that begin IMMEDIATE and one thread trip per statement."""
    ensure_sqlite_dir(database_url)
    is_sqlite = database_url.startswith("sqlite")
    engine = create_async_engine(
        one_trip_url(make_url(database_url)),
        pool_pre_ping=not is_sqlite,
        connect_args={"timeout": 30} if is_sqlite else {},
    )
    if is_sqlite:

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        event.listen(engine.sync_engine, "begin", begin_reading)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions keep objects usable after commit, as services hand them to channels."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def read_only(session: AsyncSession) -> None:
    """Starts the session's transaction as a snapshot read: on SQLite, long reports then never hold the write lock."""
    if not session.in_transaction():
        await session.connection(execution_options=READ_ONLY_OPTIONS)
