"""SQLite transactions through the stock aiosqlite dialect: writers begin IMMEDIATE and queue, read-only reports
read a snapshot without the write lock, errors and savepoints behave; PostgreSQL is left alone."""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from handoff.store.db import read_only, session_factory, write_lock_at_begin
from handoff.store.models import Customer
from tests.service.support.sqlite_files import sqlite_engine, traced

CUSTOMERS = Customer.__table__


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "transactions.sqlite3"


@pytest.fixture
async def engine(path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await sqlite_engine(path)
    yield engine
    await engine.dispose()


def other_process(path: Path) -> sqlite3.Connection:
    """A second connection that never waits, standing for another worker process."""
    return sqlite3.connect(path, timeout=0, isolation_level=None)


async def test_the_engine_is_the_stock_aiosqlite_dialect(engine: AsyncEngine) -> None:
    assert engine.url.drivername == "sqlite+aiosqlite"
    assert type(engine.dialect) is SQLiteDialect_aiosqlite
    assert write_lock_at_begin(engine.sync_engine)
    plain = create_async_engine(engine.url)  # not made by create_engine: no BEGIN of ours, so no such promise
    assert not write_lock_at_begin(plain.sync_engine)
    await plain.dispose()


async def test_a_writer_begins_immediate_and_a_session_without_statements_begins_nothing(
        engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    statements = await traced(engine)
    async with sessions() as session, session.begin():
        pass
    assert statements == []
    async with sessions() as session, session.begin():
        await session.execute(select(CUSTOMERS.c.id))
        await session.execute(insert(CUSTOMERS).values(id="c1", facts={}))
    assert statements == ["BEGIN IMMEDIATE", "SELECT", "INSERT", "COMMIT"]
    statements.clear()
    async with sessions() as session:
        await read_only(session)
        await session.execute(select(CUSTOMERS.c.id))
    assert statements == ["BEGIN DEFERRED", "SELECT", "ROLLBACK"]


async def test_a_connection_back_in_the_pool_with_a_transaction_open_rolls_it_back(engine: AsyncEngine,
                                                                                    path: Path) -> None:
    """The pool skips the ROLLBACK after a commit, but never returns a connection still holding the lock."""

    def leave_open(connection: Any) -> None:
        raw = connection.engine.raw_connection()  # a pooled DBAPI connection, past SQLAlchemy's transactions
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.close()
        raw.close()

    async with engine.connect() as connection:
        await connection.run_sync(leave_open)
    other = other_process(path)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_transaction_holds_the_write_lock_from_its_first_statement(engine: AsyncEngine, path: Path) -> None:
    other = other_process(path)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(select(CUSTOMERS.c.id))  # a read only: still the writer
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at the commit
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_two_read_then_write_transactions_queue_instead_of_failing(engine: AsyncEngine) -> None:
    """Each reads a counter, then writes it plus one: with a DEFERRED BEGIN the second would read a snapshot
    the first then overwrites, and fail with "database is locked" at its write (or lose the update)."""
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(insert(CUSTOMERS).values(id="counter", facts={}, language="0"))
    first_has_read = asyncio.Event()

    async def increment(wait_for: asyncio.Event | None) -> None:
        if wait_for is not None:
            await wait_for.wait()
        async with sessions() as session, session.begin():
            value = int(await session.scalar(select(CUSTOMERS.c.language).where(CUSTOMERS.c.id == "counter")))
            if wait_for is None:
                first_has_read.set()
                await asyncio.sleep(0.3)  # the other transaction starts and reads meanwhile
            await session.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == "counter").values(language=str(value + 1)))

    await asyncio.gather(increment(None), increment(first_has_read))
    async with sessions() as session:
        assert await session.scalar(select(CUSTOMERS.c.language).where(CUSTOMERS.c.id == "counter")) == "2"


async def test_a_read_only_snapshot_does_not_block_a_writer(engine: AsyncEngine, path: Path) -> None:
    """The dashboard's long read must not make a customer's message wait for the write lock."""
    sessions = session_factory(engine)
    other = other_process(path)
    try:
        async with sessions() as report:
            await read_only(report)
            before = await report.scalar(text("SELECT count(*) FROM customers"))
            other.execute("BEGIN IMMEDIATE")  # a writer gets the lock while the report reads
            other.execute("INSERT INTO customers (id, facts, created_at, updated_at) "
                          "VALUES ('c9', '{}', '2026-01-01', '2026-01-01')")
            other.execute("COMMIT")
            assert await report.scalar(text("SELECT count(*) FROM customers")) == before  # still its snapshot
            async with sessions() as writer, writer.begin():  # a writer of this engine too
                await writer.execute(insert(CUSTOMERS).values(id="c10", facts={}))
            await report.commit()
        async with sessions() as session, session.begin():  # the connection's next transaction writes again
            await session.execute(select(CUSTOMERS.c.id))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


async def test_a_busy_database_fails_at_begin_and_the_next_session_works(path: Path) -> None:
    engine = await sqlite_engine(path, busy_timeout_ms=50)
    sessions = session_factory(engine)
    other = other_process(path)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with sessions() as session, session.begin():
                await session.execute(select(CUSTOMERS.c.id))
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with sessions() as session, session.begin():
        await session.execute(insert(CUSTOMERS).values(id="c1", facts={}))
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM customers")) == 1
    await engine.dispose()


async def test_errors_are_raised_and_roll_the_whole_transaction_back(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(insert(CUSTOMERS).values(id="c1", facts={}))
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await session.execute(insert(CUSTOMERS).values(id="c2", facts={}))
            await session.execute(insert(CUSTOMERS).values(id="c1", facts={}))
    async with sessions() as session:
        assert list(await session.scalars(select(CUSTOMERS.c.id))) == ["c1"]  # c2 went with the failed one


async def test_a_savepoint_rolls_back_alone(engine: AsyncEngine) -> None:
    """With the driver's own BEGIN switched off, SAVEPOINT works inside our transaction."""
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(insert(CUSTOMERS).values(id="kept", facts={}))
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await session.execute(insert(CUSTOMERS).values(id="dropped", facts={}))
                await session.execute(insert(CUSTOMERS).values(id="kept", facts={}))
    async with sessions() as session:
        assert list(await session.scalars(select(CUSTOMERS.c.id))) == ["kept"]


async def test_postgresql_transactions_are_left_alone(sessions: async_sessionmaker[AsyncSession],
                                                       database_url: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(insert(CUSTOMERS).values(id="c1", facts={}))
        assert write_lock_at_begin(session.get_bind()) is database_url.startswith("sqlite")
    async with sessions() as session:
        assert await session.scalar(select(CUSTOMERS.c.id)) == "c1"
