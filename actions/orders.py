"""Where order status comes from: an HTTP order service, or the embedded SQLite demo backend."""
from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Protocol

from actions.backend_http import BackendUnavailable, request_json
from actions.demo_db import connect

ORDER_NUMBER = re.compile(r"\d{6}")
STATUSES = ("processing", "shipped", "delivered", "delayed", "cancelled")


@dataclass(frozen=True)
class Order:
    """What the assistant needs to tell a customer about one order."""

    number: str
    status: str
    tracking_url: Optional[str] = None
    delivered_on: Optional[str] = None
    eta: Optional[str] = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "Order":
        """Builds an Order from a backend's JSON or row."""
        return cls(
            number=str(data["number"]),
            status=str(data["status"]),
            tracking_url=data.get("tracking_url"),
            delivered_on=data.get("delivered_on"),
            eta=data.get("eta"),
        )


class OrderBackend(Protocol):
    """Looks orders up; returns None when not found and raises BackendUnavailable when it cannot tell."""

    def get_order(self, number: str) -> Optional[Order]:
        """The order with this number, or None."""


def normalize_order_number(value: Any) -> Optional[str]:
    """Digits of a 6-digit order number ("#100002", "nro 100002" → "100002"), else None."""
    digits = re.sub(r"\D", "", str(value or ""))
    return digits if ORDER_NUMBER.fullmatch(digits) else None


class HttpOrderBackend:
    """GET {url}/orders/{number} on the shop's order service."""

    def __init__(self, base_url: str, timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def get_order(self, number: str) -> Optional[Order]:
        """Fetches one order; 404 means not found."""
        url = f"{self.base_url}/orders/{urllib.parse.quote(number)}"
        status, body = request_json("GET", url, self.timeout)
        if status == 404:
            return None
        if status >= 400 or not isinstance(body, Mapping):
            raise BackendUnavailable(f"GET {url}: HTTP {status}")
        try:
            return Order.from_mapping({"number": number, **body})
        except KeyError as exc:
            raise BackendUnavailable(f"GET {url}: missing {exc}") from exc


class SqliteOrderBackend:
    """The embedded demo backend, seeded with one order per status."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def get_order(self, number: str) -> Optional[Order]:
        """Reads one order from the demo database."""
        with connect(self.path) as conn:
            row = conn.execute("SELECT * FROM orders WHERE number = ?", (number,)).fetchone()
        return Order.from_mapping(dict(row)) if row else None


def order_backend_from_env() -> OrderBackend:
    """HTTP backend when ORDER_BACKEND_URL is set, else the embedded SQLite one."""
    url = os.environ.get("ORDER_BACKEND_URL")
    if url:
        return HttpOrderBackend(url, float(os.environ.get("ORDER_BACKEND_TIMEOUT") or 3))
    return SqliteOrderBackend()
