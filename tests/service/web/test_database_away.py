"""While the database is away (PostgreSQL restarting), a webhook gets 503 and Retry-After: Meta sends it again."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from handoff.app import create_app
from handoff.channels.whatsapp.signature import sign
from handoff.settings import Settings
from handoff.store.db import away_error_types, create_engine, database_away
from tests.service.support.processes import free_port
from tests.service.support.whatsapp_webhooks import APP_SECRET, text_webhook


async def test_a_refused_connection_is_the_database_away_and_a_refused_write_is_not(tmp_path: Path) -> None:
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing")
    with pytest.raises(OSError) as refused:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    await engine.dispose()
    assert database_away(refused.value)

    sqlite = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}")
    async with sqlite.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        await connection.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(IntegrityError) as duplicate:
        async with sqlite.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1)"))
    await sqlite.dispose()
    assert not database_away(duplicate.value)


async def test_a_webhook_gets_503_with_retry_after_while_the_database_is_away(tmp_path: Path) -> None:
    settings = Settings(database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/frontdoor",
                        whatsapp_app_secret=APP_SECRET, secret_key="k" * 32, media_dir=tmp_path / "media",
                        log_json=False, log_level="WARNING")
    body = text_webhook("hola", "wamid.AWAY1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)),
                                 base_url="http://test") as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {"detail": "The database is away for a moment: retry"}


def test_postgresql_starting_up_or_shutting_down_is_away_a_syntax_error_is_not() -> None:
    import asyncpg.exceptions

    assert database_away(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))
    assert database_away(asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"))
    assert database_away(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"))
    assert not database_away(asyncpg.exceptions.PostgresSyntaxError("syntax error"))
    # registered by class: asyncpg raises its own while connecting, unwrapped
    assert any(issubclass(asyncpg.exceptions.CannotConnectNowError, kind) for kind in away_error_types())
