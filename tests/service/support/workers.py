"""Several service workers over one PostgreSQL database, each with its own engine (its own connections), as
separate processes have: the background loops' exactly-once tests."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.store.db import create_engine, session_factory
from tests.service.support.servers import Postgres

WORKERS = 3

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def worker_sessions(postgres_server: Postgres) -> AsyncIterator[list[Sessions]]:
    """One migrated database and WORKERS session factories on it, each over its own engine."""
    url = postgres_server.migrated_database(f"t{uuid.uuid4().hex[:12]}")
    engines = [create_engine(url) for _ in range(WORKERS)]
    yield [session_factory(engine) for engine in engines]
    for engine in engines:
        await engine.dispose()


async def at_once(rounds: list[Callable[[], Awaitable[object]]], timeout: float = 120) -> list[object]:
    """Runs each worker's round concurrently, bounded in time."""
    return await asyncio.wait_for(asyncio.gather(*(one() for one in rounds)), timeout)
