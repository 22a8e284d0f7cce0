"""Twilio Voice wire format: X-Twilio-Signature and the form parameters of its webhooks.

Pure functions only; nothing else in the service knows Twilio's parameter names (TwiML is in twiml.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlparse

from twilio.request_validator import RequestValidator

from handoff.channels.voice.updates import CallParty, RecordingChange, StatusChange, TranscriptChange

PROVIDER = "twilio"
MAX_BODY_BYTES = 64 * 1024
CALL_SID_RE = re.compile(r"^[A-Za-z0-9]{2,64}$")


class MalformedVoiceRequest(ValueError):
    """A signed request we cannot read: refused with a 4xx, nothing stored."""


def public_url(public_base_url: str, path: str, query: str = "") -> str:
    """The URL Twilio requested, as configured in its console: behind a proxy it is not the one we see."""
    return public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (Twilio sends each parameter once)."""
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedVoiceRequest("body is not a form") from exc


def check_signature(auth_token: str, url: str, params: dict[str, str], signature: str | None) -> bool:
    """Twilio's own validator: HMAC-SHA1 of the URL and the sorted parameters, keyed with the auth token."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _text(params: dict[str, str], key: str) -> str | None:
    value = (params.get(key) or "").strip()
    return value or None


@dataclass(frozen=True)
class TwilioCall:
    """The call parameters every Twilio Voice request carries."""

    call_sid: str
    from_number: str | None
    to_number: str | None
    direction: str  # inbound, outbound
    status: str | None

    @property
    def customer_number(self) -> str | None:
        """The customer's side: the caller of an inbound call, the callee of an outbound one."""
        return self.from_number if self.direction == "inbound" else self.to_number


def parse_call(params: dict[str, str]) -> TwilioCall:
    """CallSid, From, To, Direction (inbound, outbound-api, outbound-dial) and CallStatus."""
    sid = params.get("CallSid") or ""
    if not CALL_SID_RE.match(sid):
        raise MalformedVoiceRequest("missing or malformed CallSid")
    direction = "outbound" if (params.get("Direction") or "inbound").startswith("outbound") else "inbound"
    return TwilioCall(sid, _text(params, "From"), _text(params, "To"), direction, _text(params, "CallStatus"))


@dataclass(frozen=True)
class GatherResult:
    """What <Gather> heard: a transcript with its confidence, or keypad digits, or nothing (silence)."""

    speech: str | None
    confidence: float | None
    digits: str | None

    @property
    def silent(self) -> bool:
        return not self.speech and not self.digits


def parse_gather(params: dict[str, str]) -> GatherResult:
    confidence = params.get("Confidence")
    try:
        score = float(confidence) if confidence else None
    except ValueError:
        score = None
    digits = _text(params, "Digits")
    return GatherResult(_text(params, "SpeechResult"), score, digits if digits and len(digits) <= 32 else None)


@dataclass(frozen=True)
class StatusUpdate:
    """A status callback: the call's new CallStatus and, when it ended, its CallDuration."""

    status: str
    duration: int | None
    sequence: int | None


def parse_status(params: dict[str, str]) -> StatusUpdate:
    status = _text(params, "CallStatus")
    if status is None:
        raise MalformedVoiceRequest("status callback without CallStatus")
    return StatusUpdate(status, _int(params.get("CallDuration")), _int(params.get("SequenceNumber")))


def safe_media_url(url: str | None) -> str | None:
    """Only http(s) URLs reach the inbox's audio player."""
    if not url or len(url) > 2048:
        return None
    return url if urlparse(url).scheme in ("https", "http") and urlparse(url).netloc else None


@dataclass(frozen=True)
class RecordingUpdate:
    recording_sid: str
    url: str | None
    duration: int | None
    status: str


def parse_recording(params: dict[str, str]) -> RecordingUpdate:
    """A recording status callback: RecordingSid, RecordingUrl, RecordingDuration, RecordingStatus."""
    sid = _text(params, "RecordingSid")
    if sid is None:
        raise MalformedVoiceRequest("recording callback without RecordingSid")
    return RecordingUpdate(sid, safe_media_url(_text(params, "RecordingUrl")), _int(params.get("RecordingDuration")),
                           _text(params, "RecordingStatus") or "completed")


@dataclass(frozen=True)
class TranscriptionUpdate:
    transcription_sid: str
    text: str | None
    status: str
    recording_url: str | None


def parse_transcription(params: dict[str, str]) -> TranscriptionUpdate:
    """A transcribeCallback: TranscriptionSid, TranscriptionText, TranscriptionStatus."""
    sid = _text(params, "TranscriptionSid")
    if sid is None:
        raise MalformedVoiceRequest("transcription callback without TranscriptionSid")
    return TranscriptionUpdate(sid, _text(params, "TranscriptionText"), _text(params, "TranscriptionStatus")
                               or "completed", safe_media_url(_text(params, "RecordingUrl")))


def call_party(info: TwilioCall) -> CallParty:
    """The call a Twilio callback is about, in the service's terms."""
    return CallParty(PROVIDER, info.call_sid, info.direction, info.from_number, info.to_number)


def status_change(info: TwilioCall, update: StatusUpdate) -> StatusChange:
    """A status callback, keyed by CallSid and status (Twilio may send one twice)."""
    return StatusChange(f"{info.call_sid}:status:{update.status}", update.status, update.duration)


def recording_change(info: TwilioCall, update: RecordingUpdate) -> RecordingChange:
    return RecordingChange(f"{info.call_sid}:recording:{update.recording_sid}:{update.status}", update.status,
                           update.url, update.duration)


def transcript_change(info: TwilioCall, update: TranscriptionUpdate) -> TranscriptChange:
    return TranscriptChange(f"{info.call_sid}:transcription:{update.transcription_sid}", update.status, update.text,
                            update.recording_url)


# <Enqueue> QueueResult and <Dial> DialCallStatus values that mean the caller did not reach a person.
QUEUE_MISSED = frozenset({"hangup", "queue-full", "error", "system-error", "system-shutdown"})
DIAL_MISSED = {"busy": "busy", "no-answer": "no-answer", "failed": "no-answer", "canceled": "canceled"}


def parse_queue_result(params: dict[str, str]) -> tuple[str, int | None]:
    """<Enqueue action>: QueueResult (bridged, hangup, leave, queue-full, error, …) and QueueTime."""
    return (_text(params, "QueueResult") or "error"), _int(params.get("QueueTime"))


def parse_dial_result(params: dict[str, str]) -> tuple[str, int | None]:
    """<Dial action>: DialCallStatus (completed, answered, busy, no-answer, failed, canceled) and duration."""
    return (_text(params, "DialCallStatus") or "failed"), _int(params.get("DialCallDuration"))
