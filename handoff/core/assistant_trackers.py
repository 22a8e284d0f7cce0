"""The assistant's memory of a conversation: Rasa's SQL tracker store (endpoints.yml), one conversation per case
id (the service's `sender`). Erasing a customer removes their cases' conversations from it.

Rasa 3.6 has no endpoint that deletes a conversation (replacing a tracker's events leaves an SQL store's rows),
so the rows are deleted in the tracker database itself: the `events` table Rasa's SQLTrackerStore writes, keyed by
`sender_id`. On SQLite the freed pages are overwritten (`secure_delete`), so the text is gone from the file.
"""
from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlalchemy import bindparam, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = structlog.get_logger(__name__)

_DELETE = text("DELETE FROM events WHERE sender_id IN :senders").bindparams(bindparam("senders", expanding=True))


def tracker_url(configured_url: str | None, sqlite_file: str | None) -> str | None:
    """RASA_TRACKER_DB_URL (any SQLAlchemy URL), else the SQLite file endpoints.yml names (RASA_TRACKER_DB)."""
    if configured_url:
        return configured_url
    return f"sqlite+aiosqlite:///{sqlite_file}" if sqlite_file else None


class AssistantTrackers:
    """Deletes the assistant's conversations in its tracker database; no database configured: nothing to do."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    async def forget(self, case_ids: Sequence[str]) -> int:
        """Removes every tracker event of these conversations; how many rows went."""
        if not self.url or not case_ids:
            return 0
        engine: AsyncEngine = create_async_engine(self.url)  # Rasa's database: none of the service's pragmas
        try:
            async with engine.begin() as connection:
                tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
                if "events" not in tables:  # Rasa has not written a conversation yet
                    return 0
                if connection.dialect.name == "sqlite":
                    await connection.execute(text("PRAGMA secure_delete = ON"))
                result = await connection.execute(_DELETE, {"senders": list(case_ids)})
                removed = int(result.rowcount or 0)
        finally:
            await engine.dispose()
        log.info("assistant_trackers_forgotten", conversations=len(case_ids), events=removed)
        return removed
