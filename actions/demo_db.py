"""The embedded demo backend's SQLite file: created and seeded on first use, shared by orders and accounts."""
from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from actions.operations import REPO_ROOT

_LOCK = threading.Lock()
SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    number TEXT PRIMARY KEY, status TEXT NOT NULL, tracking_url TEXT, delivered_on TEXT, eta TEXT
);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, email TEXT, phone TEXT, address TEXT, updated_at TEXT
);
"""
DEMO_ORDERS = [
    ("100001", "processing", None, None, None),
    ("100002", "shipped", "https://tracking.example.com/track/100002", None, None),
    ("100003", "delivered", None, "2026-01-15", None),
    ("100004", "delayed", None, None, "2026-02-20"),
    ("100005", "cancelled", None, None, None),
]


def db_path() -> Path:
    """ORDERS_DB_PATH, or var/demo_backend.sqlite3 in the repository."""
    return Path(os.environ.get("ORDERS_DB_PATH") or REPO_ROOT / "var" / "demo_backend.sqlite3")


@contextmanager
def connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    """Opens the demo database (created and seeded the first time); commits and closes on exit."""
    target = Path(path) if path else db_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(target), timeout=5)
    conn.row_factory = sqlite3.Row
    try:
        with _LOCK, conn:
            conn.executescript(SCHEMA)
            conn.executemany("INSERT OR IGNORE INTO orders VALUES (?, ?, ?, ?, ?)", DEMO_ORDERS)
        with conn:
            yield conn
    finally:
        conn.close()
