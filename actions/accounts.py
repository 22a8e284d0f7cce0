"""Where account changes are applied: an HTTP customer service, or the embedded SQLite demo backend."""
from __future__ import annotations

import os
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from actions.backend_http import BackendUnavailable, request_json
from actions.demo_db import connect

FIELDS = ("email", "phone", "address")


class AccountBackend(Protocol):
    """Applies one validated change to a customer's account; raises BackendUnavailable on failure."""

    def update(self, customer_id: str, field: str, value: str) -> None:
        """Sets `field` (email, phone or address) to `value`."""


class HttpAccountBackend:
    """PATCH {url}/customers/{customer_id} with {field: value}."""

    def __init__(self, base_url: str, timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def update(self, customer_id: str, field: str, value: str) -> None:
        """Sends the change; any non-2xx answer counts as a failure."""
        url = f"{self.base_url}/customers/{urllib.parse.quote(customer_id)}"
        status, _ = request_json("PATCH", url, self.timeout, body={field: value})
        if status >= 300:
            raise BackendUnavailable(f"PATCH {url}: HTTP {status}")


class SqliteAccountBackend:
    """The embedded demo backend: upserts the customer row in the demo database."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def update(self, customer_id: str, field: str, value: str) -> None:
        """Stores the change (the column name comes from the fixed FIELDS list, never from input)."""
        if field not in FIELDS:
            raise ValueError(f"unknown account field {field!r}")
        now = datetime.now(timezone.utc).isoformat()
        with connect(self.path) as conn:
            conn.execute("INSERT OR IGNORE INTO customers (id) VALUES (?)", (customer_id,))
            conn.execute(f"UPDATE customers SET {field} = ?, updated_at = ? WHERE id = ?", (value, now, customer_id))


def account_backend_from_env() -> AccountBackend:
    """HTTP backend when ACCOUNT_BACKEND_URL is set, else the embedded SQLite one."""
    url = os.environ.get("ACCOUNT_BACKEND_URL")
    if url:
        return HttpAccountBackend(url, float(os.environ.get("ACCOUNT_BACKEND_TIMEOUT") or 3))
    return SqliteAccountBackend()
