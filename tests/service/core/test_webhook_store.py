"""The webhook writer on SQLite: on the service's own sessions, a body waits for a database another process holds
(SQLite's busy_timeout) and is stored once it is free; concurrent bodies share one commit."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import select

from handoff.core.webhook_store import WebhookWriter
from handoff.store.db import session_factory
from handoff.store.models import InboundWebhook
from tests.service.support.sqlite_files import sqlite_engine, traced


async def test_the_writer_waits_for_a_database_another_process_holds(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.sqlite3"
    engine = await sqlite_engine(path)
    sessions = session_factory(engine)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)  # another worker holds the write lock
    other.execute("BEGIN IMMEDIATE")
    try:
        stored = asyncio.create_task(WebhookWriter(sessions).store("whatsapp", b"{}"))
        await asyncio.sleep(0.2)
        assert not stored.done()  # still waiting, not failed
    finally:
        other.execute("ROLLBACK")
        other.close()
    row_id = await asyncio.wait_for(stored, 10)
    async with sessions() as session:
        assert list(await session.scalars(select(InboundWebhook.id))) == [row_id]
    await engine.dispose()


async def test_bodies_that_arrive_together_are_stored_in_one_commit(tmp_path: Path) -> None:
    engine = await sqlite_engine(tmp_path / "burst.sqlite3")
    sessions = session_factory(engine)
    statements = await traced(engine)
    writer = WebhookWriter(sessions)
    ids = await asyncio.wait_for(asyncio.gather(*(writer.store("whatsapp", b'{"n": %d}' % n) for n in range(20))), 10)
    assert len(set(ids)) == 20
    assert statements.count("COMMIT") <= 2  # the first body's commit, then the other nineteen together
    async with sessions() as session:
        assert len(list(await session.scalars(select(InboundWebhook.id)))) == 20
    await engine.dispose()
