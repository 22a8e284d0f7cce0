"""The per-case hash chain: each event's hash covers its metadata, a salted digest of its content and the previous
event's hash.

The chain commits to `content_digest` = SHA-256 of (salt, text, payload), never to the content itself: erasing a
customer deletes the text, the payload and the salt and keeps the digest, so every chain still verifies while
nothing that was said can be recovered from it (the random salt makes the digest useless for guessing a short
text or a phone number). Pure functions, so an exported transcript can be verified anywhere without the database.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

GENESIS = "0" * 64
# What an event's hash covers: its metadata and the digest of its content (text and payload are not in it).
CHAINED_FIELDS = ("case_id", "seq", "created_at", "channel", "direction", "actor", "kind", "content_digest",
                  "provider_id", "prev_hash")
# What an export carries of each event so it can be re-hashed: the content, its salt, and what the chain covers.
HASHED_FIELDS = ("case_id", "seq", "created_at", "channel", "direction", "actor", "kind", "text", "payload",
                 "content_salt", "content_digest", "provider_id", "prev_hash")

# Before migration 0012_content_digest the hash covered the content itself: exports made then still verify.
LEGACY_FIELDS = ("case_id", "seq", "created_at", "channel", "direction", "actor", "kind", "text", "payload",
                 "provider_id", "prev_hash")


def utc_iso(moment: datetime) -> str:
    """One textual form for a moment, whatever the database gave back (SQLite drops the zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dumps(body: object) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def new_salt() -> str:
    """256 random bits per event: the digest of a short text or a number cannot be found by trying them."""
    return secrets.token_hex(32)


def content_digest(text: str | None, payload: Any, salt: str | None) -> str:
    """SHA-256 of the salted content (an empty payload and none are one and the same)."""
    return hashlib.sha256(_dumps({"payload": payload or {}, "salt": salt, "text": text})).hexdigest()


def is_erased(event: Mapping[str, Any]) -> bool:
    """An erased event keeps its digest and nothing it was computed from: no salt, no text, no payload."""
    return event.get("content_salt") is None and event.get("content_digest") is not None \
        and event.get("text") is None and not event.get("payload")


def digest_of(event: Mapping[str, Any]) -> str:
    """The digest the chain covers: the stored one when the event is erased, else computed from the content.

    An event without a digest field (an audit entry) is digested unsalted from its content."""
    if is_erased(event):
        return str(event["content_digest"])
    return content_digest(event.get("text"), event.get("payload"), event.get("content_salt"))


def canonical(event: Mapping[str, Any]) -> bytes:
    """Stable bytes of the chained fields: sorted keys, no spaces, UTF-8."""
    body = {field: event.get(field) for field in CHAINED_FIELDS}
    body["content_digest"] = digest_of(event)
    if isinstance(body["created_at"], datetime):
        body["created_at"] = utc_iso(body["created_at"])
    return _dumps(body)


def event_hash(event: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical form."""
    return hashlib.sha256(canonical(event)).hexdigest()


def legacy_event_hash(event: Mapping[str, Any]) -> str:
    """The hash as computed before content digests (format 1 exports)."""
    body = {field: event.get(field) for field in LEGACY_FIELDS}
    if isinstance(body["created_at"], datetime):
        body["created_at"] = utc_iso(body["created_at"])
    return hashlib.sha256(_dumps(body)).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None


def verify_chain(events: Iterable[Mapping[str, Any]],
                 hash_of: Callable[[Mapping[str, Any]], str] = event_hash) -> ChainCheck:
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
        stated = event.get("content_digest")
        if stated is not None and not is_erased(event) and digest_of(event) != stated:
            return ChainCheck(False, count, f"event #{seq} was altered", seq)
        if hash_of(event) != event.get("hash"):
            return ChainCheck(False, count, f"event #{seq} was altered", seq)
        previous_hash = event["hash"]
        expected_seq += 1
    return ChainCheck(True, count)
