"""Locks across workers: Redis for spans of work, the database for one transaction (audit chain, identities)."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.core import audit
from handoff.core.locks import KeyedLock, xact_lock
from handoff.store.db import create_engine, session_factory
from tests.service.support.servers import Postgres


async def overlaps(locks: list[KeyedLock], keys: list[str]) -> int:
    """How many holders were inside at once, at most, when each lock holds its key in turn for a moment."""
    inside, most = 0, 0

    async def hold(lock: KeyedLock, key: str) -> None:
        nonlocal inside, most
        async with lock.hold(key):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.02)
            inside -= 1

    await asyncio.gather(*(hold(lock, key) for lock in locks for key in keys for _ in range(3)))
    return most


async def test_in_one_process_a_key_has_one_holder_and_other_keys_run_alongside() -> None:
    lock = KeyedLock("calls", None)
    assert await overlaps([lock], ["CA1"]) == 1
    assert await overlaps([lock], [f"CA{n}" for n in range(8)]) > 1


async def test_without_redis_two_workers_do_not_see_each_others_holds() -> None:
    """What REDIS_URL adds: the process lock alone is not shared (the embedded mode has one worker)."""
    assert await overlaps([KeyedLock("calls", None), KeyedLock("calls", None)], ["CA1"]) == 2


@pytest.mark.redis
async def test_two_workers_on_one_redis_hold_a_key_in_turn(redis_url: str) -> None:
    key = uuid.uuid4().hex
    workers = [KeyedLock.for_url("calls", redis_url), KeyedLock.for_url("calls", redis_url)]
    try:
        assert await overlaps(workers, [key]) == 1
        assert await overlaps(workers, [f"{key}:{n}" for n in range(4)]) > 1
    finally:
        for lock in workers:
            await lock.aclose()


@pytest.mark.redis
async def test_a_dead_workers_redis_lock_lapses_with_its_lease(redis_url: str) -> None:
    key = uuid.uuid4().hex
    client = Redis.from_url(redis_url)
    await client.set(f"frontdoor:lock:calls:{key}", "a worker that died", px=300)  # held, never released
    lock = KeyedLock.for_url("calls", redis_url)

    async def take() -> bytes | None:
        async with lock.hold(key):
            return await client.get(f"frontdoor:lock:calls:{key}")

    try:
        assert await asyncio.wait_for(take(), timeout=5) != b"a worker that died"
    finally:
        await lock.aclose()
        await client.aclose()


@pytest.fixture
async def two_engines(database_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """Two workers' engines on one database."""
    engines = [create_engine(database_url), create_engine(database_url)]
    yield engines
    for engine in engines:
        await engine.dispose()


async def test_concurrent_audit_records_on_two_workers_keep_one_chain(two_engines: list[AsyncEngine]) -> None:
    """Without a process lock: the database's lock (advisory on PostgreSQL, the write lock on SQLite) suffices."""
    factories = [session_factory(engine) for engine in two_engines]

    async def record(n: int) -> None:
        async with factories[n % 2]() as session, session.begin():
            await audit.record(session, "agent:x", "reply", n=n)
            await asyncio.sleep(0.01)  # the next writer must wait for this commit, not just for the flush

    await asyncio.gather(*(record(n) for n in range(16)))
    async with factories[0]() as session:
        entries = await audit.entries(session)
        assert [entry.seq for entry in entries] == list(range(1, 17))
        assert (await audit.verify(session)).ok


@pytest.mark.postgres
async def test_a_transaction_lock_waits_for_the_other_workers_commit(postgres_server: Postgres) -> None:
    url = postgres_server.migrated_database(f"t{uuid.uuid4().hex[:12]}")
    engines = [create_engine(url), create_engine(url)]
    first, second = (session_factory(engine) for engine in engines)
    order: list[str] = []
    try:
        async with first() as holder, holder.begin():
            await xact_lock(holder, "identity:phone:+16505551234")

            async def other() -> None:
                async with second() as session, session.begin():
                    await xact_lock(session, "identity:phone:+16505551234")
                    order.append("second")

            waiting = asyncio.create_task(other())
            await asyncio.sleep(0.3)
            async with second() as session, session.begin():
                await xact_lock(session, "identity:phone:+34600000000")  # another key is free meanwhile
            order.append("first")
        await waiting
        assert order == ["first", "second"]
    finally:
        for engine in engines:
            await engine.dispose()
