"""Call events from any PBX (Asterisk, FreeSWITCH, a cloud contact center): signed JSON, read here only.

`X-Signature: sha256=<hex HMAC-SHA256 of the raw body under CALL_EVENTS_SECRET>`; idempotent on
(call_id, event, sequence). The body shape is documented in the README.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from handoff.channels.voice.twilio import safe_media_url
from handoff.core.signing import same_secret

PROVIDER = "pbx"
SIGNATURE_HEADER = "X-Signature"
EVENTS = ("call.started", "call.answered", "call.ended", "call.recording", "call.transcript")
STATUSES = ("completed", "busy", "no-answer", "canceled", "failed", "abandoned")
MAX_BODY_BYTES = 512 * 1024
MAX_SEGMENTS = 2000
CALL_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,100}$")


class MalformedCallEvent(ValueError):
    """A signed body that is not a call event we can read: 400, nothing stored."""


def sign(secret: str, body: bytes) -> str:
    """The X-Signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time comparison over the exact raw bytes."""
    return bool(header) and same_secret(str(header).strip(), sign(secret, body))


@dataclass(frozen=True)
class CallEvent:
    """One state change of a PBX call, in the service's terms."""

    call_id: str
    event: str
    sequence: int
    direction: str
    from_number: str | None
    to_number: str | None
    occurred_at: datetime | None = None
    status: str | None = None
    duration: int | None = None
    agent: str | None = None
    recording_url: str | None = None
    recording_duration: int | None = None
    transcript: str | None = None
    segments: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def customer_number(self) -> str | None:
        return self.from_number if self.direction == "inbound" else self.to_number

    @property
    def idempotency_key(self) -> str:
        """(call id, event, sequence): the provider id of the event's timeline row."""
        return f"pbx:{self.call_id}:{self.event}:{self.sequence}"


def _object_or_empty(value: Any) -> dict[str, Any]:
    """Optional nested objects of an event: the object when sent, else empty."""
    return value if isinstance(value, dict) else {}


def _str(data: dict[str, Any], key: str, limit: int = 200) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int)) or len(str(value)) > limit:
        raise MalformedCallEvent(f"{key} must be a string of at most {limit} characters")
    return str(value).strip() or None


def _seconds(value: Any, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise MalformedCallEvent(f"{key} must be a number of seconds")
    return int(round(value))


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedCallEvent("timestamp must be ISO 8601") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_segments(raw: Any) -> tuple[dict[str, Any], ...]:
    """[{speaker, start, end, text}] with times in seconds from the start of the call."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_SEGMENTS:
        raise MalformedCallEvent(f"transcript.segments must be a list of at most {MAX_SEGMENTS}")
    segments = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise MalformedCallEvent("each segment needs a text")
        start = item.get("start")
        end = item.get("end")
        if start is not None and (isinstance(start, bool) or not isinstance(start, (int, float)) or start < 0):
            raise MalformedCallEvent("segment start must be seconds")
        if end is not None and (isinstance(end, bool) or not isinstance(end, (int, float)) or end < 0):
            raise MalformedCallEvent("segment end must be seconds")
        segments.append({"speaker": str(item.get("speaker") or "unknown")[:32], "start": start, "end": end,
                         "text": item["text"][:4000]})
    return tuple(segments)


def transcript_text(segments: tuple[dict[str, Any], ...]) -> str:
    """The readable transcript when the PBX sent only segments."""
    return "\n".join(f"{segment['speaker']}: {segment['text']}" for segment in segments)


def parse_event(body: bytes) -> CallEvent:
    """Validates and reads one event; raises MalformedCallEvent for anything we cannot store faithfully."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedCallEvent("body is not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedCallEvent("body is not an object")
    event, call_id, sequence = data.get("event"), data.get("call_id"), data.get("sequence", 0)
    if event not in EVENTS:
        raise MalformedCallEvent(f"event must be one of {', '.join(EVENTS)}")
    if not isinstance(call_id, str) or not CALL_ID_RE.match(call_id):
        raise MalformedCallEvent("call_id must be 1-100 characters of letters, digits and ._:@-")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise MalformedCallEvent("sequence must be a non-negative integer")
    direction = data.get("direction") or "inbound"
    if direction not in ("inbound", "outbound"):
        raise MalformedCallEvent("direction must be inbound or outbound")
    status = _str(data, "status", 16)
    if event == "call.ended" and status not in (None, *STATUSES):
        raise MalformedCallEvent(f"status must be one of {', '.join(STATUSES)}")
    recording = _object_or_empty(data.get("recording"))
    transcript = _object_or_empty(data.get("transcript"))
    if event == "call.recording" and not safe_media_url(recording.get("url")):
        raise MalformedCallEvent("call.recording needs recording.url (http or https)")
    segments = parse_segments(transcript.get("segments"))
    text = transcript.get("text") if isinstance(transcript.get("text"), str) else None
    if event == "call.transcript" and not (text or segments):
        raise MalformedCallEvent("call.transcript needs transcript.text or transcript.segments")
    return CallEvent(
        call_id=call_id, event=event, sequence=sequence, direction=direction,
        from_number=_str(data, "from", 64), to_number=_str(data, "to", 64), occurred_at=_time(data.get("timestamp")),
        status=status, duration=_seconds(data.get("duration"), "duration"), agent=_str(data, "agent", 320),
        recording_url=safe_media_url(recording.get("url")),
        recording_duration=_seconds(recording.get("duration"), "recording.duration"),
        transcript=(text[:100_000] if text else transcript_text(segments) or None), segments=segments,
    )
