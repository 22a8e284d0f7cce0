"""One process's SQLite writers begin in the order they asked, each when the one before ends, however it ends."""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handoff.store.db import read_only, session_factory
from handoff.store.models import Customer
from handoff.store.sqlite_writers import HOLDS_TURN, WriterQueue
from tests.service.support.sqlite_files import sqlite_engine

CUSTOMERS = Customer.__table__
GUARD = 10.0  # seconds: a writer still waiting after this was never given its turn


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await sqlite_engine(tmp_path / "writers.sqlite3")
    yield engine
    await engine.dispose()


async def write(sessions: async_sessionmaker[AsyncSession], name: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(insert(CUSTOMERS).values(id=name, facts={}))


async def test_waiting_writers_begin_in_the_order_they_came(engine: AsyncEngine) -> None:
    """SQLite's busy handler would let the last comer (the shortest naps) in first; the queue keeps the order."""
    sessions = session_factory(engine)
    order: list[str] = []

    async def writer(name: str) -> None:
        async with sessions() as session, session.begin():
            await session.execute(select(CUSTOMERS.c.id))  # the turn is taken here
            order.append(name)

    async with sessions() as holder, holder.begin():
        await holder.execute(insert(CUSTOMERS).values(id="first", facts={}))
        waiting = []
        for name, pause in (("second", 0.15), ("third", 0.05), ("fourth", 0.0)):
            waiting.append(asyncio.create_task(writer(name)))
            await asyncio.sleep(pause)  # each one asks after the one before (SQLite would nap longest on the first)
        assert order == []
    await asyncio.wait_for(asyncio.gather(*waiting), GUARD)
    assert order == ["second", "third", "fourth"]


async def test_the_next_writer_begins_once_the_commit_before_is_done(tmp_path: Path) -> None:
    """With SQLite's busy handler off, a writer let in while the one before was still committing would fail at
    once ("database is locked"): fifty at a time, none does."""
    engine = await sqlite_engine(tmp_path / "no-naps.sqlite3", busy_timeout_ms=0)
    sessions = session_factory(engine)
    try:
        await asyncio.wait_for(asyncio.gather(*(write(sessions, f"c{n}") for n in range(50))), GUARD)
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(CUSTOMERS)) == 50
    finally:
        await engine.dispose()


async def test_a_read_only_snapshot_does_not_wait_for_the_writers(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as holder, holder.begin():
        await holder.execute(insert(CUSTOMERS).values(id="held", facts={}))
        async with sessions() as report:
            await read_only(report)
            assert await asyncio.wait_for(report.scalar(select(CUSTOMERS.c.id)), GUARD) is None


async def test_a_failed_transaction_gives_its_turn_back(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    await write(sessions, "c1")
    with pytest.raises(IntegrityError):
        await write(sessions, "c1")
    await asyncio.wait_for(write(sessions, "c2"), GUARD)


async def test_a_writer_cancelled_in_its_transaction_gives_its_turn_back(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    inside = asyncio.Event()

    async def stuck() -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert(CUSTOMERS).values(id="never", facts={}))
            inside.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(stuck())
    await asyncio.wait_for(inside.wait(), GUARD)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(write(sessions, "after"), GUARD)
    async with sessions() as session:
        assert list(await session.scalars(select(CUSTOMERS.c.id))) == ["after"]


async def test_a_writer_cancelled_while_waiting_leaves_the_queue(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as holder, holder.begin():
        await holder.execute(insert(CUSTOMERS).values(id="held", facts={}))
        waiting = asyncio.create_task(write(sessions, "cancelled"))
        behind = asyncio.create_task(write(sessions, "behind"))
        await asyncio.sleep(0.05)
        waiting.cancel()
    await asyncio.wait_for(behind, GUARD)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    async with sessions() as session:
        assert sorted(await session.scalars(select(CUSTOMERS.c.id))) == ["behind", "held"]


async def test_an_invalidated_connection_gives_its_turn_back(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(select(CUSTOMERS.c.id))  # a writer: holds the turn
        await connection.invalidate()
        await transaction.rollback()
    await asyncio.wait_for(write(sessions, "after"), GUARD)


class Driver:
    """aiosqlite's connection as the queue uses it: one execute a BEGIN."""

    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.sent: list[str] = []

    async def execute(self, sql: str) -> None:
        if self.fails:
            raise sqlite3.OperationalError("disk I/O error")
        self.sent.append(sql)


async def test_a_writer_waiting_longer_than_busy_timeout_fails_as_sqlite_would() -> None:
    queue = WriterQueue(timeout=0.05)
    holder: dict[str, Any] = {}
    await queue.begin(Driver(), "BEGIN IMMEDIATE", holder)
    late = Driver()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await queue.begin(late, "BEGIN IMMEDIATE", {})
    assert late.sent == []
    WriterQueue.end(holder)
    next_one: dict[str, Any] = {}
    await asyncio.wait_for(queue.begin(Driver(), "BEGIN IMMEDIATE", next_one), GUARD)
    assert HOLDS_TURN in next_one


async def test_a_begin_that_fails_gives_the_turn_back_and_ending_twice_is_harmless() -> None:
    queue = WriterQueue(timeout=GUARD)
    failed: dict[str, Any] = {}
    with pytest.raises(sqlite3.OperationalError):
        await queue.begin(Driver(fails=True), "BEGIN IMMEDIATE", failed)
    assert failed == {}
    first: dict[str, Any] = {}
    await queue.begin(Driver(), "BEGIN IMMEDIATE", first)
    second_driver, second = Driver(), dict[str, Any]()
    waiting = asyncio.create_task(queue.begin(second_driver, "BEGIN IMMEDIATE", second))
    await asyncio.sleep(0)
    WriterQueue.end(first)
    WriterQueue.end(first)  # a rollback after a reset, say: the second writer's turn is not given away
    await asyncio.wait_for(waiting, GUARD)
    third: dict[str, Any] = {}
    third_task = asyncio.create_task(queue.begin(Driver(), "BEGIN IMMEDIATE", third))
    await asyncio.sleep(0.05)
    assert not third_task.done()  # the second still holds the turn
    WriterQueue.end(second)
    await asyncio.wait_for(third_task, GUARD)
    assert second_driver.sent == ["BEGIN IMMEDIATE"]
