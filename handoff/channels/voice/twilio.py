"""Twilio Voice wire format: X-Twilio-Signature and the form parameters of its webhooks.

Pure functions only; nothing else in the service knows Twilio's parameter names (TwiML is in twiml.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlparse

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError
from twilio.request_validator import RequestValidator

from handoff.channels.voice.updates import CallParty, RecordingChange, StatusChange, TranscriptChange
from handoff.core.json_values import NUL_REFUSED, nul_at

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


MAX_SECONDS = 7 * 24 * 3600  # no call, queue wait or recording lasts longer than a week


def _empty_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _whole_number(value: Any) -> Any:
    """Twilio's numbers are strings of digits; anything else (a sign, a decimal point, 30 digits) is refused."""
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 10:
            raise ValueError("must be a whole number of at most 10 digits")
        return int(text)
    return value


def _fraction(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError as exc:
            raise ValueError("must be a number between 0 and 1") from exc
    return value


Count = Annotated[Annotated[int, Field(ge=0, le=2**31 - 1)] | None, BeforeValidator(_whole_number),
                  BeforeValidator(_empty_is_none)]
Seconds = Annotated[Annotated[int, Field(ge=0, le=MAX_SECONDS)] | None, BeforeValidator(_whole_number),
                    BeforeValidator(_empty_is_none)]
Fraction = Annotated[Annotated[float, Field(ge=0, le=1)] | None, BeforeValidator(_fraction),
                     BeforeValidator(_empty_is_none)]
Short = Annotated[Annotated[str, StringConstraints(max_length=64)] | None, BeforeValidator(_empty_is_none)]
State = Annotated[Annotated[str, StringConstraints(max_length=16)] | None, BeforeValidator(_empty_is_none)]
Url = Annotated[Annotated[str, StringConstraints(max_length=2048)] | None, BeforeValidator(_empty_is_none)]
Spoken = Annotated[Annotated[str, StringConstraints(max_length=4096)] | None, BeforeValidator(_empty_is_none)]
Transcribed = Annotated[Annotated[str, StringConstraints(max_length=60_000)] | None, BeforeValidator(_empty_is_none)]


class VoiceForm(BaseModel):
    """The parameters of Twilio's Voice requests the service reads, checked before any is used; others ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False, str_strip_whitespace=True)

    CallSid: Short = None
    From: Short = None
    To: Short = None
    Direction: State = None
    CallStatus: State = None
    CallDuration: Seconds = None
    SequenceNumber: Count = None
    SpeechResult: Spoken = None
    Confidence: Fraction = None
    Digits: Spoken = None
    RecordingSid: Short = None
    RecordingUrl: Url = None
    RecordingDuration: Seconds = None
    RecordingStatus: State = None
    TranscriptionSid: Short = None
    TranscriptionText: Transcribed = None
    TranscriptionStatus: State = None
    QueueResult: State = None
    QueueTime: Seconds = None
    DialCallStatus: State = None
    DialCallDuration: Seconds = None


def read_form(params: dict[str, str]) -> VoiceForm:
    """The checked parameters; raises MalformedVoiceRequest (400) naming the first bad ones."""
    if nul_at(params):
        raise MalformedVoiceRequest(f"malformed request: {NUL_REFUSED}")
    try:
        return VoiceForm.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
                             for error in exc.errors(include_url=False)[:3])
        raise MalformedVoiceRequest(f"malformed request: {problems}") from exc


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
    form = read_form(params)
    sid = form.CallSid or ""
    if not CALL_SID_RE.match(sid):
        raise MalformedVoiceRequest("missing or malformed CallSid")
    direction = "outbound" if (form.Direction or "inbound").startswith("outbound") else "inbound"
    return TwilioCall(sid, form.From, form.To, direction, form.CallStatus)


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
    form = read_form(params)
    digits = form.Digits
    return GatherResult(form.SpeechResult, form.Confidence, digits if digits and len(digits) <= 32 else None)


@dataclass(frozen=True)
class StatusUpdate:
    """A status callback: the call's new CallStatus and, when it ended, its CallDuration."""

    status: str
    duration: int | None
    sequence: int | None


def parse_status(params: dict[str, str]) -> StatusUpdate:
    form = read_form(params)
    if form.CallStatus is None:
        raise MalformedVoiceRequest("status callback without CallStatus")
    return StatusUpdate(form.CallStatus, form.CallDuration, form.SequenceNumber)


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
    form = read_form(params)
    if form.RecordingSid is None:
        raise MalformedVoiceRequest("recording callback without RecordingSid")
    return RecordingUpdate(form.RecordingSid, safe_media_url(form.RecordingUrl), form.RecordingDuration,
                           form.RecordingStatus or "completed")


@dataclass(frozen=True)
class TranscriptionUpdate:
    transcription_sid: str
    text: str | None
    status: str
    recording_url: str | None


def parse_transcription(params: dict[str, str]) -> TranscriptionUpdate:
    """A transcribeCallback: TranscriptionSid, TranscriptionText, TranscriptionStatus."""
    form = read_form(params)
    if form.TranscriptionSid is None:
        raise MalformedVoiceRequest("transcription callback without TranscriptionSid")
    return TranscriptionUpdate(form.TranscriptionSid, form.TranscriptionText, form.TranscriptionStatus or "completed",
                               safe_media_url(form.RecordingUrl))


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
    form = read_form(params)
    return (form.QueueResult or "error"), form.QueueTime


def parse_dial_result(params: dict[str, str]) -> tuple[str, int | None]:
    """<Dial action>: DialCallStatus (completed, answered, busy, no-answer, failed, canceled) and duration."""
    form = read_form(params)
    return (form.DialCallStatus or "failed"), form.DialCallDuration
