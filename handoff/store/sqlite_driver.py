"""SQLAlchemy's aiosqlite dialect with one trip to the SQLite thread per statement, and writers that queue.

aiosqlite runs every call on its own thread; SQLAlchemy's adapter makes four such calls per SELECT (cursor,
execute, fetchall, close) and three per write, and each costs a thread wake-up and an event-loop turn, which on
a busy machine is most of a statement's time. Here the whole statement runs as one call on that thread, with
the same sqlite3 connection, the same transaction and the same errors.

Every transaction begins IMMEDIATE (the driver's own implicit BEGIN would come only before the first write,
after the reads that decided it): the database write lock is held from the first statement, so a transaction's
reads and writes are one unit and two writers (tasks or worker processes) queue on busy_timeout instead of one
reading a stale "last event" and failing at commit. do_begin only marks the connection: the BEGIN runs in the
same call as the transaction's first statement. `WRITE_LOCK_AT_BEGIN` tells code that would otherwise take a
row lock. Registered as `sqlite+aiosqlite_onetrip`; `handoff.store.db.create_engine` uses it for
`sqlite+aiosqlite` URLs.

A transaction that only reads (the dashboard, exports) asks for `READ_ONLY` and begins DEFERRED instead: in WAL
mode it reads a snapshot without the write lock, so a long report never makes customer messages wait.
"""
from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.engine import URL

DRIVER = "aiosqlite_onetrip"
WRITE_LOCK_AT_BEGIN = "write_lock_at_begin"  # a dialect attribute: True where BEGIN takes the write lock
READ_ONLY = "frontdoor_read_only"  # an execution option: this transaction only reads
BEGIN_WRITER, BEGIN_READER = "BEGIN IMMEDIATE", "BEGIN DEFERRED"

Outcome = tuple[Any, list[Any], int | None, int]  # description, rows, lastrowid, rowcount


def _begin_if_pending(adapted: OneTripConnection, connection: sqlite3.Connection) -> None:
    """On the SQLite thread, before a transaction's first statement: the BEGIN that do_begin deferred."""
    if adapted.begin_pending:
        connection.execute(adapted.begin_sql)
        adapted.begin_pending, adapted.begin_sql = False, BEGIN_WRITER


def _run(adapted: OneTripConnection, connection: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    """On the SQLite thread: (begin,) execute, fetch every row and close, as the adapter would in five calls."""
    _begin_if_pending(adapted, connection)
    cursor = connection.cursor()
    try:
        cursor.execute(operation) if parameters is None else cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _run_many(adapted: OneTripConnection, connection: sqlite3.Connection, operation: str,
             parameters: Sequence[Any]) -> Outcome:
    _begin_if_pending(adapted, connection)
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose execute is a single call on the connection's thread."""

    __slots__ = ()

    def _apply(self, outcome: Outcome) -> None:
        self.description, rows, self.lastrowid, self.rowcount = outcome
        self._rows = deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            connection = self._connection
            self._apply(self.await_(connection._execute(_run, self._adapt_connection, connection._conn, operation,
                                                        parameters)))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            connection = self._connection
            self._apply(self.await_(connection._execute(_run_many, self._adapt_connection, connection._conn,
                                                        operation, seq_of_parameters)))
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class OneTripServerSideCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """A streaming cursor (the adapter's own), after the deferred BEGIN."""

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        adapted = self._adapt_connection
        if adapted.begin_pending:
            try:
                self.await_(self._connection._execute(_begin_if_pending, adapted, self._connection._conn))
            except Exception as error:
                adapted._handle_exception(error)
        return super().execute(operation, parameters)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """BEGIN IMMEDIATE travels with the transaction's first statement; a transaction without one costs nothing."""

    __slots__ = ("begin_pending", "begin_sql")

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.begin_pending = False
        self.begin_sql = BEGIN_WRITER  # the next transaction's BEGIN; a reader's lasts one transaction

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        return OneTripServerSideCursor(self) if server_side else OneTripCursor(self)

    def commit(self) -> None:
        if self.begin_pending:  # nothing was executed: nothing began
            self.begin_pending, self.begin_sql = False, BEGIN_WRITER
        else:
            super().commit()

    def rollback(self) -> None:
        if self.begin_pending:
            self.begin_pending, self.begin_sql = False, BEGIN_WRITER
        else:
            super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection) if type(adapted) is AsyncAdapt_aiosqlite_connection \
            else adapted


class OneTripDialect(SQLiteDialect_aiosqlite):
    supports_statement_cache = True
    write_lock_at_begin = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))

    def on_connect(self) -> Callable[[Any], None]:
        base = super().on_connect()

        def connect(dbapi_connection: Any) -> None:
            dbapi_connection.isolation_level = None  # the driver never begins by itself: do_begin does
            if base is not None:
                base(dbapi_connection)
        return connect

    def do_begin(self, dbapi_connection: Any) -> None:
        adapted = dbapi_connection.dbapi_connection
        if isinstance(adapted, OneTripConnection):
            adapted.begin_pending = True  # sent with the first statement, in the same call on the thread
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        finally:
            cursor.close()


def begin_reading(connection: Any) -> None:
    """A `begin` event listener: a transaction started with the READ_ONLY option reads without the write lock."""
    if connection.get_execution_options().get(READ_ONLY):
        adapted = connection.connection.dbapi_connection
        if isinstance(adapted, OneTripConnection):
            adapted.begin_sql = BEGIN_READER


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")


def one_trip_url(url: URL) -> URL:
    """The same database through this dialect, for `sqlite+aiosqlite` URLs; any other URL unchanged."""
    return url.set(drivername=f"sqlite+{DRIVER}") if url.drivername == "sqlite+aiosqlite" else url
