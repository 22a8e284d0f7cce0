"""SQLite through aiosqlite in one trip to its thread per statement, where SQLAlchemy's adapter takes three or four.

SQLAlchemy's aiosqlite adapter asks the driver for a cursor, runs the statement on it, fetches its rows and closes
it: each an await that crosses to aiosqlite's thread and back (a queue put, the thread's wake-up, the event loop's
self-pipe), about 150 µs of the worker's CPU apiece, four to six statements a customer turn. Here a cursor is made
without a trip: the statement runs on aiosqlite's `Connection.execute` (a cursor made and executed in one trip),
its rows come in a second trip only when it has any, and a cursor whose rows were all read closes without one.
Statements, parameters, results and errors are the driver's own: SQLAlchemy sees the same sqlite3 values.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aiosqlite


class StatementCursor:
    """What SQLAlchemy's adapter asks of a driver cursor, running each statement on the connection's `execute`."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._cursor: aiosqlite.Cursor | None = None
        self._drained = True  # no statement with rows left unread: closing needs no trip

    def _ran(self) -> aiosqlite.Cursor:
        if self._cursor is None:
            raise sqlite3.ProgrammingError("no statement was executed on this cursor")
        return self._cursor

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> StatementCursor:
        self._cursor = await self._connection.execute(sql, parameters)
        self._drained = self._cursor.description is None
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> StatementCursor:
        self._cursor = await self._connection.executemany(sql, parameters)
        self._drained = True
        return self

    async def fetchall(self) -> Iterable[sqlite3.Row]:
        rows = await self._ran().fetchall()
        self._drained = True
        return rows

    async def fetchone(self) -> sqlite3.Row | None:
        return await self._ran().fetchone()

    async def fetchmany(self, size: int | None = None) -> Iterable[sqlite3.Row]:
        return await (self._ran().fetchmany() if size is None else self._ran().fetchmany(size))

    async def close(self) -> None:
        """A statement read to its end is already reset by sqlite3; one left part-read (a streamed result) is
        closed on the driver's thread, as before."""
        if self._cursor is not None and not self._drained:
            await self._cursor.close()
        self._cursor = None

    @property
    def description(self) -> Any:
        return self._ran().description

    @property
    def lastrowid(self) -> int | None:
        return self._ran().lastrowid

    @property
    def rowcount(self) -> int:
        return self._ran().rowcount


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection whose cursors cost no trip to its thread until they run a statement."""

    async def cursor(self) -> StatementCursor:  # type: ignore[override]  # SQLAlchemy uses what it defines
        return StatementCursor(self)


def _made_in_daemon_thread(make: Callable[[], OneTripConnection]) -> OneTripConnection:
    """A thread is a daemon if the thread creating it is (Python's threading docs): the connection's worker thread
    then never keeps the process from exiting, as SQLAlchemy makes aiosqlite's threads for its own connections."""
    made: list[OneTripConnection] = []
    maker = threading.Thread(target=lambda: made.append(make()), daemon=True, name="sqlite-connection-maker")
    maker.start()
    maker.join()
    return made[0]


def one_trip_connector(args: list[Any], kwargs: dict[str, Any]) -> Callable[[], Awaitable[OneTripConnection]]:
    """SQLAlchemy's `async_creator`: a connection opened with the arguments its dialect would pass aiosqlite."""
    database, *rest = args

    def open_sqlite() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(database, *rest, **kwargs)
        return connection

    async def connect() -> OneTripConnection:
        connection = _made_in_daemon_thread(lambda: OneTripConnection(open_sqlite, iter_chunk_size=64))
        await connection  # starts its thread and opens the database there
        return connection

    return connect
