"""Rasa's SQLite tracker store runs in WAL mode without an fsync per turn, and still keeps every turn."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels import rest_with_metadata  # noqa: F401  (importing the channel installs the pragmas)


def test_tracker_store_file_is_in_wal_mode_and_keeps_turns(tmp_path: Path) -> None:
    path = tmp_path / "trackers.sqlite3"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    tracker = DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen"), UserUttered("hola")])
    asyncio.run(store.save(tracker))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    reader = sqlite3.connect(path)  # another process's view, as the service's harvest and erasure read it
    assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert reader.execute("SELECT count(*) FROM events WHERE sender_id = 'c1'").fetchone()[0] == 2
    reader.close()
    tracker.update(UserUttered("gracias"))
    asyncio.run(store.save(tracker))
    again = asyncio.run(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path)).retrieve("c1"))
    assert again is not None and [e.text for e in again.events if isinstance(e, UserUttered)] == ["hola", "gracias"]
