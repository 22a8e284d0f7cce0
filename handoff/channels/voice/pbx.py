"""Call events from any PBX (Asterisk, FreeSWITCH, a cloud contact center): signed JSON, read here only.

`X-Signature: sha256=<hex HMAC-SHA256 of the raw body under CALL_EVENTS_SECRET>`; idempotent on
(call_id, event, sequence). The body shape is documented in the README.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, StringConstraints, ValidationError

from handoff.channels.voice.twilio import safe_media_url
from handoff.core.json_values import NUL_REFUSED, JsonRefused, load_strict_object, nul_at
from handoff.core.signing import same_secret

PROVIDER = "pbx"
SIGNATURE_HEADER = "X-Signature"
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


MAX_SECONDS = 7 * 24 * 3600  # no call, recording or segment lasts longer than a week
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, tzinfo=timezone.utc)


def _text_or_number(value: Any) -> Any:
    """Numbers may come as JSON numbers (`"from": 5215512345678`); they are read as their digits."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _empty_is_none(value: Any) -> Any:
    return None if value == "" else value


def _moment(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 date and time")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))  # ValueError reads as the field's error
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if not EARLIEST <= moment <= LATEST:
        raise ValueError("must be between years 1970 and 9999")
    return moment


Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS)]
_Number = Annotated[str, StringConstraints(max_length=64)]
_Status = Annotated[str, StringConstraints(max_length=16)]
_Agent = Annotated[str, StringConstraints(max_length=200)]  # calls.agent_name
Number = Annotated[_Number | None, BeforeValidator(_empty_is_none), BeforeValidator(_text_or_number)]
Status = Annotated[_Status | None, BeforeValidator(_empty_is_none), BeforeValidator(_text_or_number)]
Agent = Annotated[_Agent | None, BeforeValidator(_empty_is_none), BeforeValidator(_text_or_number)]


class _Part(BaseModel):
    """Strict types (no object where a string belongs, no "5" for 5), finite numbers, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False, str_max_length=100_000)


class _Segment(_Part):
    text: Annotated[str, StringConstraints(max_length=4000)]
    speaker: Annotated[str, StringConstraints(max_length=200)] | None = None
    start: Seconds | None = None
    end: Seconds | None = None


class _Recording(_Part):
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    duration: Seconds | None = None


class _Transcript(_Part):
    text: str | None = None
    segments: Annotated[list[_Segment], Field(max_length=MAX_SEGMENTS)] | None = None


class _Body(_Part):
    """The documented call-event body (README, "Call events from a PBX")."""

    event: Literal["call.started", "call.answered", "call.ended", "call.recording", "call.transcript"]
    call_id: Annotated[str, StringConstraints(pattern=CALL_ID_RE.pattern)]
    sequence: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    direction: Annotated[Literal["inbound", "outbound"] | None, BeforeValidator(_empty_is_none)] = None
    from_: Number = Field(default=None, alias="from")
    to: Number = None
    timestamp: Annotated[datetime, PlainValidator(_moment)] | None = None
    status: Status = None
    duration: Seconds | None = None
    agent: Agent = None
    recording: _Recording | None = None
    transcript: _Transcript | None = None


EventBody = _Body  # what the route documents in OpenAPI


def _describe(exc: ValidationError) -> str:
    """`duration: Input should be less than or equal to 604800` for the first few errors."""
    lines = [f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg'].removeprefix('Value error, ')}"
             for error in exc.errors(include_url=False)[:3]]
    return "; ".join(lines)


def _whole(seconds: float | None) -> int | None:
    return None if seconds is None else int(round(seconds))


def _stripped(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


def transcript_text(segments: tuple[dict[str, Any], ...]) -> str:
    """The readable transcript when the PBX sent only segments."""
    return "\n".join(f"{segment['speaker']}: {segment['text']}" for segment in segments)


def parse_event(body: bytes) -> CallEvent:
    """Validates and reads one event; raises MalformedCallEvent for anything we cannot store faithfully."""
    try:
        data = load_strict_object(body)
    except JsonRefused as exc:
        raise MalformedCallEvent(str(exc)) from exc
    if nul_at(data):
        raise MalformedCallEvent(NUL_REFUSED)
    try:
        parsed = _Body.model_validate(data)
    except ValidationError as exc:
        raise MalformedCallEvent(_describe(exc)) from exc
    status = _stripped(parsed.status)
    if parsed.event == "call.ended" and status not in (None, *STATUSES):
        raise MalformedCallEvent(f"status must be one of {', '.join(STATUSES)}")
    recording = parsed.recording or _Recording()
    transcript = parsed.transcript or _Transcript()
    if parsed.event == "call.recording" and not safe_media_url(recording.url):
        raise MalformedCallEvent("call.recording needs recording.url (http or https)")
    segments = tuple({"speaker": (segment.speaker or "unknown")[:32], "start": segment.start, "end": segment.end,
                      "text": segment.text} for segment in transcript.segments or [])
    text = transcript.text
    if parsed.event == "call.transcript" and not (text or segments):
        raise MalformedCallEvent("call.transcript needs transcript.text or transcript.segments")
    return CallEvent(
        call_id=parsed.call_id, event=parsed.event, sequence=parsed.sequence, direction=parsed.direction or "inbound",
        from_number=_stripped(parsed.from_), to_number=_stripped(parsed.to), occurred_at=parsed.timestamp,
        status=status, duration=_whole(parsed.duration), agent=_stripped(parsed.agent),
        recording_url=safe_media_url(recording.url), recording_duration=_whole(recording.duration),
        transcript=(text[:100_000] if text else transcript_text(segments) or None), segments=segments,
    )
