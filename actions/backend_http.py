"""Minimal JSON-over-HTTP client shared by the HTTP order and account backends (stdlib only)."""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple


class BackendUnavailable(Exception):
    """The backend did not answer usefully (timeout, connection error, 5xx, bad JSON)."""


def request_json(method: str, url: str, timeout: float, body: Optional[Dict[str, Any]] = None) -> Tuple[int, Any]:
    """Sends one request; returns (status, parsed JSON or None); 4xx are returned, failures raise."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Accept": "application/json"})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code >= 500:
            raise BackendUnavailable(f"{method} {url}: HTTP {exc.code}") from exc
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        raise BackendUnavailable(f"{method} {url}: {exc}") from exc
    try:
        return status, json.loads(raw) if raw else None
    except ValueError as exc:
        if status >= 400:
            return status, None
        raise BackendUnavailable(f"{method} {url}: invalid JSON") from exc
