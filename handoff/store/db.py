"""The async engine and session factory, with SQLite tuned for the embedded mode.

SQLite transactions follow SQLAlchemy's documented recipe ("Serializable isolation / Savepoints / Transactional
DDL"): the driver's own implicit BEGIN is switched off (`isolation_level = None`, else it would come only before
the first write, after the reads that decided it) and a `begin` event emits our BEGIN. Writers begin IMMEDIATE:
the database write lock is held from the first statement, so a transaction's reads and writes are one unit and
two writers (tasks or worker processes) queue on busy_timeout instead of one reading a stale "last event" and
failing at commit; within this process they queue in arrival order (`sqlite_writers`), not in SQLite's naps. A
transaction that only reads (the dashboard, exports) asks for it with `read_only` and
begins DEFERRED: in WAL mode it reads a snapshot without the write lock, so a long report never makes customer
messages wait. PostgreSQL engines get none of this.
"""
from __future__ import annotations

import importlib
import sqlite3
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import AdaptedConnection, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

from handoff.store.sqlite_writers import HOLDS_TURN, WriterQueue

READ_ONLY = "handoff_read_only"  # an execution option: this transaction only reads
READ_ONLY_OPTIONS = {READ_ONLY: True}
BEGIN_WRITER, BEGIN_READER = "BEGIN IMMEDIATE", "BEGIN DEFERRED"
BUSY_TIMEOUT_SECONDS = 30
_WRITERS: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def ensure_sqlite_dir(database_url: str) -> None:
    """A fresh clone has no var/ directory; SQLite will not create it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Each new SQLite connection: WAL, a busy timeout, enforced foreign keys, and no BEGIN of the driver's own."""
    dbapi_connection.isolation_level = None  # the driver never begins by itself: _sqlite_begin does
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Writers take the write lock at BEGIN, after this process's earlier writers; a transaction started with
    READ_ONLY reads a snapshot without it.

    Sent through aiosqlite's own execute (AdaptedConnection.run_async), one call on its thread, where a cursor
    would take three; a failure (a database still busy after busy_timeout) is raised as SQLAlchemy's error."""
    reader = bool(connection.get_execution_options().get(READ_ONLY))
    sql = BEGIN_READER if reader else BEGIN_WRITER
    adapted = connection.connection.dbapi_connection
    assert isinstance(adapted, AdaptedConnection)
    writers = None if reader else _WRITERS.get(connection.engine)
    try:
        if writers is None:
            adapted.run_async(lambda driver: driver.execute(sql))
        else:
            adapted.run_async(lambda driver: writers.begin(driver, sql, connection.info))
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, None, error, sqlite3.Error, dialect=connection.dialect) from error


def _sqlite_ended(sql: str, ending: Callable[[Any], Awaitable[None]]) -> Callable[[Connection], None]:
    """A writer's COMMIT or ROLLBACK, sent here and awaited before the next writer of this process is let in (in
    the commit and rollback events, which come before the driver's own call: that one then finds no transaction
    and does nothing). Letting the next writer in first would make it meet the lock still held, and nap."""

    def ended(connection: Connection) -> None:
        if connection.invalidated or HOLDS_TURN not in connection.info:
            return  # a reader's transaction, or a connection that gave its turn back when it was invalidated
        adapted = connection.connection.dbapi_connection
        assert isinstance(adapted, AdaptedConnection)
        try:
            adapted.run_async(ending)
        except sqlite3.Error as error:
            raise DBAPIError.instance(sql, None, error, sqlite3.Error, dialect=connection.dialect) from error
        finally:
            WriterQueue.end(connection.info)

    return ended


_SQLITE_COMMIT = _sqlite_ended("COMMIT", lambda driver: driver.commit())
_SQLITE_ROLLBACK = _sqlite_ended("ROLLBACK", lambda driver: driver.rollback())


def _sqlite_discarded(_dbapi_connection: Any, record: ConnectionPoolEntry, *_: Any) -> None:
    """A connection invalidated or closed in its transaction gives its writer's turn back too."""
    WriterQueue.end(record.info)


def _sqlite_reset(dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState) -> None:
    """A connection back in the pool rolls back only a transaction left open: SQLAlchemy's default reset would
    send a ROLLBACK after every commit, one more trip to the SQLite thread per transaction."""
    if state.asyncio_safe and not state.transaction_was_reset and dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()
    WriterQueue.end(record.info)


def create_engine(database_url: str, *, pool_size: int = 5) -> AsyncEngine:
    """One engine per process; SQLite gets WAL, a busy timeout, enforced foreign keys and transactions that
    begin IMMEDIATE (DEFERRED for read-only snapshots). A server database keeps `pool_size` connections open (as
    many again in bursts): a connection closed after a burst takes its prepared statements with it."""
    ensure_sqlite_dir(database_url)
    is_sqlite = database_url.startswith("sqlite")
    pool: dict[str, Any] = {} if is_sqlite else {"pool_size": pool_size, "max_overflow": pool_size}
    engine = create_async_engine(
        database_url,
        connect_args={"timeout": 30} if is_sqlite else {},
        pool_reset_on_return=None if is_sqlite else "rollback",  # SQLite: _sqlite_reset does it when needed
        **pool,
    )
    if is_sqlite:
        _WRITERS[engine.sync_engine] = WriterQueue(BUSY_TIMEOUT_SECONDS)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        event.listen(engine.sync_engine, "commit", _SQLITE_COMMIT)
        event.listen(engine.sync_engine, "rollback", _SQLITE_ROLLBACK)
        event.listen(engine.sync_engine, "reset", _sqlite_reset)
        for discarded in ("invalidate", "soft_invalidate", "close"):
            event.listen(engine.sync_engine, discarded, _sqlite_discarded)
    return engine


def write_lock_at_begin(bind: Engine | Connection) -> bool:
    """Whether this engine's transactions hold the database write lock from BEGIN (SQLite engines made here), so
    code that would otherwise take a row lock needs none."""
    return event.contains(bind.engine, "begin", _sqlite_begin)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions keep objects usable after commit, as services hand them to channels."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def read_only(session: AsyncSession) -> None:
    """Starts the session's transaction as a snapshot read: on SQLite, long reports then never hold the write lock."""
    if not session.in_transaction():
        await session.connection(execution_options=READ_ONLY_OPTIONS)


# SQLSTATEs of a server that is gone or going: class 08 (connection exception), 57P01-57P03 (admin shutdown, crash
# shutdown, "the database system is starting up / shutting down").
_AWAY_STATES = ("57P01", "57P02", "57P03")


def _away_state(error: BaseException | None) -> bool:
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return isinstance(state, str) and (state.startswith("08") or state in _AWAY_STATES)


def database_away(error: BaseException) -> bool:
    """True when the database cannot be reached right now (restarting, down, a connection it closed): a request
    that failed for this may be retried as it is, unlike a bug or a refused write."""
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated) or _away_state(error.orig) or _away_state(error.__cause__)
    return isinstance(error, (ConnectionRefusedError, ConnectionResetError)) or _away_state(error)


def away_error_types() -> tuple[type[Exception], ...]:
    """The exception classes `database_away` may say yes to, for handlers registered by class: asyncpg raises its
    own while connecting (PostgreSQL starting up or shutting down), not wrapped by SQLAlchemy."""
    types: list[type[Exception]] = [DBAPIError, ConnectionRefusedError, ConnectionResetError]
    try:
        asyncpg_errors = importlib.import_module("asyncpg.exceptions")
    except ImportError:  # an install without PostgreSQL's driver
        return tuple(types)
    return (*types, asyncpg_errors.PostgresConnectionError, asyncpg_errors.OperatorInterventionError)
