"""The SQLite dialect: one trip to the SQLite thread per statement (the first one carrying BEGIN IMMEDIATE),
the same results and errors, and writers that queue."""
from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handoff.store.db import READ_ONLY_OPTIONS, create_engine
from handoff.store.models import Base, Customer, Identity


class CountingQueue:
    """Wraps aiosqlite's queue of calls for its thread, counting them."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.calls = 0

    def put_nowait(self, item: Any) -> None:
        self.calls += 1
        self.queue.put_nowait(item)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


async def counting(connection: AsyncConnection) -> CountingQueue:
    driver = (await connection.get_raw_connection()).driver_connection
    queue = CountingQueue(driver._tx)
    driver._tx = queue
    return queue


async def test_each_statement_is_one_call_on_the_sqlite_thread(engine: AsyncEngine) -> None:
    customers = Customer.__table__
    async with engine.connect() as connection:
        queue = await counting(connection)
        before = queue.calls
        async with connection.begin():
            inserted = await connection.execute(insert(customers), [{"id": "c1", "facts": {}}])
            assert queue.calls - before == 1 and inserted.rowcount == 1  # with its BEGIN IMMEDIATE
            before = queue.calls
            identity = await connection.execute(insert(Identity.__table__).values(customer_id="c1", kind="webchat",
                                                                                   value="v"))
            assert queue.calls - before == 1 and identity.inserted_primary_key[0] == 1  # lastrowid
            before = queue.calls
            changed = await connection.execute(update(customers).values(language="es"))
            assert queue.calls - before == 1 and changed.rowcount == 1
            before = queue.calls
            rows = (await connection.execute(select(customers.c.id, customers.c.language))).all()
            assert queue.calls - before == 1 and [tuple(row) for row in rows] == [("c1", "es")]
            before = queue.calls
            many = await connection.execute(insert(Identity.__table__),
                                             [{"customer_id": "c1", "kind": "email", "value": f"{n}@x.mx"}
                                              for n in range(3)])
            assert queue.calls - before == 1 and many.rowcount == 3
            before = queue.calls
        assert queue.calls - before == 1  # COMMIT
        async with connection.begin():
            pass
        assert queue.calls - before == 1  # a transaction without statements never began


async def test_a_busy_database_fails_the_first_statement_and_the_connection_recovers(engine: AsyncEngine,
                                                                                      tmp_path: Path) -> None:
    async with engine.connect() as connection:
        await connection.exec_driver_sql("PRAGMA busy_timeout=50")
        await connection.commit()
        other = sqlite3.connect(tmp_path / "driver.sqlite3", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(OperationalError, match="locked"):
                async with connection.begin():
                    await connection.execute(select(Customer.__table__.c.id))
        finally:
            other.execute("ROLLBACK")
            other.close()
        async with connection.begin():
            await connection.execute(insert(Customer.__table__).values(id="c1", facts={}))
        assert (await connection.execute(text("SELECT count(*) FROM customers"))).scalar() == 1


async def test_errors_are_raised_as_before(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(Customer.__table__).values(id="c1", facts={}))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(Customer.__table__).values(id="c1", facts={}))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM customers"))).scalar() == 1


async def test_a_transaction_holds_the_write_lock_from_its_first_statement(engine: AsyncEngine,
                                                                           tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "driver.sqlite3", timeout=0, isolation_level=None)
    try:
        async with engine.connect() as connection:
            async with connection.begin():
                await connection.execute(select(Customer.__table__.c.id))  # a read only: still the writer
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            other.execute("BEGIN IMMEDIATE")  # released at the commit
            other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_read_only_transaction_reads_a_snapshot_without_holding_writers(engine: AsyncEngine,
                                                                                 tmp_path: Path) -> None:
    """The dashboard's long read must not make a customer's message wait for the write lock."""
    other = sqlite3.connect(tmp_path / "driver.sqlite3", timeout=0, isolation_level=None)
    try:
        async with engine.connect() as connection:
            reader = await connection.execution_options(**READ_ONLY_OPTIONS)
            async with reader.begin():
                before = (await reader.execute(text("SELECT count(*) FROM customers"))).scalar()
                other.execute("BEGIN IMMEDIATE")  # a writer gets the lock while the report reads
                other.execute("INSERT INTO customers (id, facts, created_at, updated_at) VALUES ('c9', '{}', '2026-01-01', '2026-01-01')")
                other.execute("COMMIT")
                assert (await reader.execute(text("SELECT count(*) FROM customers"))).scalar() == before
        async with engine.begin() as connection:  # the next transaction on that connection is a writer again
            await connection.execute(select(Customer.__table__.c.id))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
