"""Signed but malformed voice webhooks answer 400 with the field at fault and store nothing (they used to be 500s:
NaN, 1e400, 30-digit durations, objects where strings belong)."""
from __future__ import annotations

import pytest

from handoff.channels.voice.pbx import sign as sign_call_event
from tests.service.channels.voice.conftest import PUBLIC, VoiceApp
from tests.service.support.twilio_calls import CALL_EVENTS_SECRET, CALLER, call_params, post_call_event, post_twilio

START = {"event": "call.started", "call_id": "pbx-bad-1", "sequence": 1, "from": CALLER, "to": "+525500000000"}


async def post_raw_event(voice: VoiceApp, body: bytes):
    return await voice.client.post("/webhooks/calls", content=body,
                                   headers={"Content-Type": "application/json",
                                            "X-Signature": sign_call_event(CALL_EVENTS_SECRET, body)})


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"event": "call.ended", "call_id": "pbx-bad-1", "status": "completed", "duration": NaN}',
     "NaN is not a JSON number"),
    (b'{"event": "call.ended", "call_id": "pbx-bad-1", "status": "completed", "duration": Infinity}',
     "Infinity is not a JSON number"),
    (b'{"event": "call.ended", "call_id": "pbx-bad-1", "status": "completed", "duration": 1e400}',
     "1e400 is out of range"),
    (b'{"event": "call.transcript", "call_id": "pbx-bad-1", "transcript": {"segments": '
     b'[{"text": "hola", "start": -Infinity}]}}', "-Infinity is not a JSON number"),
])
async def test_pbx_events_with_nan_or_infinity_are_refused_and_store_nothing(voice: VoiceApp, body: bytes,
                                                                             reason: str) -> None:
    assert (await post_call_event(voice.client, START)).status_code == 200
    before = await voice.stored()
    response = await post_raw_event(voice, body)
    assert response.status_code == 400 and response.json()["error"] == f"malformed call event: {reason}"
    assert await voice.stored() == before


@pytest.mark.parametrize(("change", "reason"), [
    ({"duration": 10**30}, "duration: Input should be less than or equal to 604800"),
    ({"duration": True}, "duration: Input should be a valid number"),
    ({"sequence": 10**30}, "sequence: Input should be less than or equal to 2147483647"),
    ({"from": {"number": CALLER}}, "from: Input should be a valid string"),
    ({"agent": ["Luis"]}, "agent: Input should be a valid string"),
    ({"agent": "L" * 201}, "agent: String should have at most 200 characters"),  # calls.agent_name holds 200
    ({"status": "completed", "recording": "https://pbx.example.com/r.mp3"}, "recording: Input should be"),
    ({"timestamp": "+99999-01-01T00:00:00"}, "timestamp: Invalid isoformat string"),
    ({"timestamp": 10**30}, "timestamp: must be an ISO 8601 date and time"),
    ({"transcript": {"text": {"nested": "hola"}}}, "transcript.text: Input should be a valid string"),
    ({"agent": "Luis\u0000"}, "a string holds U+0000 (NUL)"),
])
async def test_pbx_events_with_wrong_types_or_out_of_range_numbers_get_400(voice: VoiceApp, change: dict,
                                                                           reason: str) -> None:
    assert (await post_call_event(voice.client, START)).status_code == 200
    before = await voice.stored()
    response = await post_call_event(voice.client, {**START, "event": "call.ended", "sequence": 2, **change})
    assert response.status_code == 400 and response.json()["error"].startswith(f"malformed call event: {reason}")
    assert await voice.stored() == before


@pytest.mark.parametrize(("path", "params", "reason"), [
    ("status", {"CallStatus": "completed", "CallDuration": "9" * 30}, "CallDuration: must be a whole number"),
    ("status", {"CallStatus": "completed", "CallDuration": "-5"}, "CallDuration: must be a whole number"),
    ("status", {"CallStatus": "completed", "SequenceNumber": "1e9"}, "SequenceNumber: must be a whole number"),
    ("recording", {"RecordingSid": "RE1", "RecordingDuration": "9" * 30}, "RecordingDuration: must be"),
    ("dialed", {"DialCallStatus": "completed", "DialCallDuration": "9" * 30}, "DialCallDuration: must be"),
    ("queue", {"QueueResult": "hangup", "QueueTime": "99999999999999999999"}, "QueueTime: must be"),
    ("gather", {"SpeechResult": "hola", "Confidence": "NaN"}, "Confidence: Input should be a finite number"),
    ("gather", {"SpeechResult": "hola", "Confidence": "7"}, "Confidence: Input should be less than or equal to 1"),
    ("status", {"CallStatus": "completed" * 10}, "CallStatus: String should have at most 16 characters"),
    ("transcription", {"TranscriptionSid": "TR1", "TranscriptionText": "hola\u0000"}, "a string holds U+0000"),
])
async def test_twilio_forms_with_out_of_range_numbers_get_400_and_store_nothing(voice: VoiceApp, path: str,
                                                                                params: dict, reason: str) -> None:
    sid = "CA" + "7" * 32
    assert (await post_twilio(voice.client, PUBLIC, "/webhooks/twilio/voice", call_params(sid))).status_code == 200
    before = await voice.stored()
    response = await post_twilio(voice.client, PUBLIC, f"/webhooks/twilio/voice/{path}", call_params(sid, **params))
    assert response.status_code == 400 and response.json()["error"].startswith(f"malformed request: {reason}")
    assert await voice.stored() == before
