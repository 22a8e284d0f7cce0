"""Rasa's SQL tracker store on SQLite in write-ahead-log mode, synchronised at checkpoints rather than each turn.

Rasa saves the tracker once a turn with a blocking commit on its event loop; in SQLite's default rollback-journal
mode each commit waits for two fsyncs, about 8 % of a turn's time here and far more when the disk is busy
(py-spy, bench/rasa_capacity.py). With WAL and `synchronous=NORMAL` a commit appends to the log without an fsync:
a crash of Rasa loses nothing, a power cut may lose the last turns (never corrupts the file), and the service's
readers of the same file (NLU harvest, erasure) no longer block Rasa's writes nor wait for them.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")


def on_connect(connection: Any, _record: Any) -> None:
    """Sets the pragmas on every new SQLite connection (journal_mode stays in the file, the rest per connection)."""
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()


def install() -> None:
    """Applies to every SQLAlchemy engine Rasa creates afterwards; other dialects are left alone."""
    if not event.contains(Engine, "connect", on_connect):
        event.listen(Engine, "connect", on_connect)
