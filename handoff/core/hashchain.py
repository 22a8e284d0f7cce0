"""The per-case hash chain: each event's hash covers its content and the previous event's hash.

Pure functions, so an exported transcript can be verified anywhere without the database.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = ("case_id", "seq", "created_at", "channel", "direction", "actor", "kind", "text", "payload",
                 "provider_id", "prev_hash")


def utc_iso(moment: datetime) -> str:
    """One textual form for a moment, whatever the database gave back (SQLite drops the zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: Mapping[str, Any]) -> bytes:
    """Stable bytes of the hashed fields: sorted keys, no spaces, UTF-8."""
    body = {field: event.get(field) for field in HASHED_FIELDS}
    if isinstance(body["created_at"], datetime):
        body["created_at"] = utc_iso(body["created_at"])
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_hash(event: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical form."""
    return hashlib.sha256(canonical(event)).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None


def verify_chain(events: Iterable[Mapping[str, Any]]) -> ChainCheck:
    """Detects an altered, removed, inserted or reordered event in one case's ordered events."""
    previous_hash = GENESIS
    expected_seq = 1
    count = 0
    for event in events:
        count += 1
        seq = event.get("seq")
        if seq != expected_seq:
            return ChainCheck(False, count, f"expected event #{expected_seq}, found #{seq}", seq)
        if event.get("prev_hash") != previous_hash:
            return ChainCheck(False, count, f"event #{seq} does not follow the event before it", seq)
        if event_hash(event) != event.get("hash"):
            return ChainCheck(False, count, f"event #{seq} was altered", seq)
        previous_hash = event["hash"]
        expected_seq += 1
    return ChainCheck(True, count)
