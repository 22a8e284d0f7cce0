"""The webhook writer on SQLite: its sessions fail fast on a busy database (at BEGIN IMMEDIATE) and it retries
until the lock is free, so a burst never waits on SQLite's sleeping busy handler."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from handoff.core.webhook_store import WebhookWriter, sqlite_writer_sessions
from handoff.store.models import Base, InboundWebhook


async def test_the_writer_waits_for_a_busy_database_and_a_writer_without_retries_fails(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.sqlite3"
    made = sqlite_writer_sessions(f"sqlite+aiosqlite:///{path}")
    assert made is not None
    engine, sessions = made
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)  # another worker holds the write lock
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):  # SQLAlchemy's error, which the writer retries on
            await WebhookWriter(sessions).store("whatsapp", b"{}")
        stored = asyncio.create_task(WebhookWriter(sessions, fast_retry=True, retry_for=10).store("whatsapp", b"{}"))
        await asyncio.sleep(0.2)
        assert not stored.done()  # still retrying, not failed
    finally:
        other.execute("ROLLBACK")
        other.close()
    row_id = await asyncio.wait_for(stored, 10)
    async with sessions() as session:
        assert list(await session.scalars(select(InboundWebhook.id))) == [row_id]
    await engine.dispose()
