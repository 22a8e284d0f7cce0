"""SQLite connections that run a statement in one trip to aiosqlite's thread: results, counts, ids, streamed reads
and errors as SQLAlchemy's stock adapter gives them, and worker threads that never keep the process alive."""
from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.store.db import create_engine
from handoff.store.models import Base, Customer
from handoff.store.sqlite_driver import OneTripConnection, StatementCursor

CUSTOMERS = Customer.__table__


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


async def test_rows_counts_and_ids_come_back_as_from_the_stock_driver(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(insert(CUSTOMERS), [{"id": f"c{n}", "language": "es"} for n in range(3)])
        assert inserted.rowcount == 3  # executemany
        one = await connection.execute(insert(CUSTOMERS).values(id="c9", language="en"))
        assert one.inserted_primary_key == ("c9",)
        assert (await connection.execute(text("INSERT INTO customer_keys (customer_id, kind, value) "
                                              "VALUES ('c9', 'name', 'ana')"))).lastrowid >= 1
        changed = await connection.execute(update(CUSTOMERS).where(CUSTOMERS.c.language == "es").values(language="pt"))
        assert changed.rowcount == 3
        rows = (await connection.execute(select(CUSTOMERS.c.id, CUSTOMERS.c.language).order_by(CUSTOMERS.c.id))).all()
        assert [tuple(row) for row in rows] == [("c0", "pt"), ("c1", "pt"), ("c2", "pt"), ("c9", "en")]
        assert (await connection.execute(select(CUSTOMERS.c.id).where(CUSTOMERS.c.id == "nobody"))).first() is None


async def test_a_streamed_result_read_in_part_is_closed_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(CUSTOMERS), [{"id": f"c{n:02d}"} for n in range(50)])
    async with engine.connect() as connection:
        streamed = await connection.stream(select(CUSTOMERS.c.id).order_by(CUSTOMERS.c.id))
        assert [row.id for row in await streamed.fetchmany(2)] == ["c00", "c01"]
        await streamed.close()
        assert await connection.scalar(select(CUSTOMERS.c.id).order_by(CUSTOMERS.c.id.desc()).limit(1)) == "c49"


async def test_errors_are_sqlalchemys_and_the_transaction_rolls_back(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(CUSTOMERS).values(id="twice"))
            await connection.execute(insert(CUSTOMERS).values(id="twice"))
    async with engine.connect() as connection:
        assert await connection.scalar(select(CUSTOMERS.c.id)) is None


async def test_a_cursor_costs_no_trip_and_the_worker_thread_never_holds_the_process(engine: AsyncEngine) -> None:
    await engine.dispose()  # a connection of its own, opened here
    before = set(threading.enumerate())
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, OneTripConnection) and isinstance(driver, aiosqlite.Connection)
        cursor = await driver.cursor()
        assert isinstance(cursor, StatementCursor)
        await cursor.execute("SELECT 1 UNION ALL SELECT 2")
        assert cursor.description is not None and list(await cursor.fetchall()) == [(1,), (2,)]
        await cursor.close()
        started = [thread for thread in threading.enumerate() if thread not in before]
    assert started, "the pool's connection runs on a thread of its own"
    assert all(thread.daemon for thread in started)
