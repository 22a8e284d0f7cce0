"""Twilio's and the PBX's wire formats: signatures (the docs' worked example), form parameters, TwiML, JSON events."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from handoff.channels.voice import pbx, twilio
from handoff.channels.voice.decisions import VoiceReply, locale_for
from handoff.channels.voice.twiml import VoiceUrls, render
from handoff.channels.voice.updates import CallParty, RecordingChange, StatusChange, TranscriptChange

VECTORS = json.loads((Path(__file__).resolve().parent / "fixtures" / "signature_vector.json")
                     .read_text())
URLS = VoiceUrls.under("https://frontdoor.example.com/")


@pytest.mark.parametrize("vector", VECTORS)
def test_the_docs_worked_example_signs_and_validates(vector: dict) -> None:
    validator = RequestValidator(vector["auth_token"])
    expected = vector["expected_X-Twilio-Signature"]
    assert validator.compute_signature(vector["url"], vector["post_params"]) == expected
    assert twilio.check_signature(vector["auth_token"], vector["url"], vector["post_params"], expected)
    tampered = {**vector["post_params"], "Digits": "9999"}
    assert not twilio.check_signature(vector["auth_token"], vector["url"], tampered, expected)
    assert not twilio.check_signature("another-token", vector["url"], vector["post_params"], expected)
    assert not twilio.check_signature(vector["auth_token"], vector["url"], vector["post_params"], None)
    # the public URL, query string included, is what is signed: behind a proxy we rebuild it from PUBLIC_BASE_URL
    assert twilio.public_url("https://example.com/", "/myapp.php", "foo=1&bar=2") == vector["url"]
    assert not twilio.check_signature(vector["auth_token"], "https://example.com/myapp.php", vector["post_params"],
                                      expected)


def test_form_parameters_become_the_services_call_shapes() -> None:
    params = twilio.parse_form(b"CallSid=CA1234567890ABCDE&From=%2B14158675310&To=%2B18005551212&"
                               b"Direction=outbound-api&CallStatus=no-answer"
                               b"&SpeechResult=%C2%BFa+qu%C3%A9+hora+abren%3F"
                               b"&Confidence=0.91&CallDuration=0&SequenceNumber=3")
    call = twilio.parse_call(params)
    assert (call.call_sid, call.direction, call.customer_number) == ("CA1234567890ABCDE", "outbound", "+18005551212")
    gathered = twilio.parse_gather(params)
    assert (gathered.speech, gathered.confidence, gathered.silent) == ("¿a qué hora abren?", 0.91, False)
    assert twilio.parse_gather({"CallSid": "CA1"}).silent
    assert twilio.parse_status(params) == twilio.StatusUpdate("no-answer", 0, 3)
    with pytest.raises(twilio.MalformedVoiceRequest):
        twilio.parse_call({"CallSid": "<script>"})
    recording = twilio.parse_recording({"RecordingSid": "RE1", "RecordingUrl": "javascript:alert(1)",
                                        "RecordingDuration": "12"})
    assert (recording.url, recording.duration, recording.status) == (None, 12, "completed")
    assert twilio.parse_queue_result({"QueueResult": "hangup", "QueueTime": "40"}) == ("hangup", 40)


def test_twilio_callbacks_become_provider_neutral_updates_keyed_for_repeats() -> None:
    call = twilio.parse_call({"CallSid": "CA1", "From": "+14158675310", "To": "+18005551212"})
    assert twilio.call_party(call) == CallParty("twilio", "CA1", "inbound", "+14158675310", "+18005551212")
    assert twilio.status_change(call, twilio.parse_status({"CallStatus": "completed", "CallDuration": "61"})) == \
        StatusChange("CA1:status:completed", "completed", 61)
    recording = twilio.parse_recording({"RecordingSid": "RE1", "RecordingUrl": "https://api.twilio.com/RE1",
                                        "RecordingStatus": "completed", "RecordingDuration": "60"})
    assert twilio.recording_change(call, recording) == \
        RecordingChange("CA1:recording:RE1:completed", "completed", "https://api.twilio.com/RE1", 60)
    transcription = twilio.parse_transcription({"TranscriptionSid": "TR1", "TranscriptionText": "hola"})
    assert twilio.transcript_change(call, transcription) == \
        TranscriptChange("CA1:transcription:TR1", "completed", "hola", None)


def test_twiml_listens_with_say_inside_gather_in_the_callers_language() -> None:
    reply = VoiceReply(("Hola <b>Ana</b> & *bienvenida* 👋", "Para Sí, marca 1."), locale_for("es", "CO"), "listen",
                       num_digits=1)
    root = ET.fromstring(render(reply, URLS, gather_timeout=7))
    [gather] = root
    assert gather.tag == "Gather" and gather.attrib["input"] == "speech dtmf"
    assert gather.attrib["language"] == "es-CO" and gather.attrib["numDigits"] == "1"
    assert gather.attrib["action"] == "https://frontdoor.example.com/webhooks/twilio/voice/gather"
    assert gather.attrib["actionOnEmptyResult"] == "true" and gather.attrib["timeout"] == "7"
    says = list(gather)
    assert [say.tag for say in says] == ["Say", "Say"]
    assert says[0].attrib["language"] == "es-MX"  # <Say> has no es-CO voice: the language's default speaks
    assert says[0].text == "Hola <b>Ana</b> & bienvenida"  # text, escaped by the builder, not markup


def test_twiml_listens_for_a_code_six_keys_or_hash_after_fewer_with_time_to_find_it() -> None:
    reply = VoiceReply(("Marca el código.",), locale_for("es", "MX"), "listen", num_digits=1, code=True)
    [gather] = ET.fromstring(render(reply, URLS, gather_timeout=7))
    assert gather.attrib["input"] == "speech dtmf"  # the code may be said too
    assert (gather.attrib["numDigits"], gather.attrib["finishOnKey"], gather.attrib["timeout"]) == ("6", "#", "15")
    slow = ET.fromstring(render(reply, URLS, gather_timeout=30))[0]
    assert slow.attrib["timeout"] == "30" and "finishOnKey" not in ET.fromstring(render(
        VoiceReply(("Hola",), locale_for("es", "MX"), "listen"), URLS))[0].attrib


def test_twiml_hands_over_with_enqueue_or_dial() -> None:
    locale = locale_for("en", "US")
    queued = ET.fromstring(render(VoiceReply(("Please hold.",), locale, "queue", "care"), URLS))
    assert [child.tag for child in queued] == ["Say", "Enqueue"]
    assert queued[1].text == "care" and queued[1].attrib["action"].endswith("/webhooks/twilio/voice/queue")
    dialed = ET.fromstring(render(VoiceReply((), locale, "dial", "sip:care@pbx.example.com"), URLS, dial_timeout=20))
    assert dialed[0].tag == "Dial" and dialed[0].attrib["timeout"] == "20" and dialed[0][0].tag == "Sip"
    number = ET.fromstring(render(VoiceReply((), locale, "dial", "+525555555555"), URLS))
    assert number[0][0].tag == "Number" and number[0][0].text == "+525555555555"
    recorded = ET.fromstring(render(VoiceReply(("Bye",), locale, "hangup", record=True), URLS))
    assert [child.tag for child in recorded] == ["Start", "Say", "Hangup"]
    assert recorded[0][0].attrib["recordingStatusCallback"].endswith("/webhooks/twilio/voice/recording")


def test_pbx_events_are_signed_with_hmac_sha256_and_validated() -> None:
    body = json.dumps({"event": "call.transcript", "call_id": "1718.42", "sequence": 4, "from": "+525512345678",
                       "to": "+525500000000", "transcript": {"segments": [
                           {"speaker": "customer", "start": 0.0, "end": 2.5, "text": "Hola"},
                           {"speaker": "agent", "start": 2.6, "end": 4, "text": "Buenas tardes"}]}}).encode()
    header = pbx.sign("s3cret", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert pbx.check_signature("s3cret", body, header)
    assert not pbx.check_signature("s3cret", body + b" ", header)
    assert not pbx.check_signature("s3cret", body, None)
    event = pbx.parse_event(body)
    assert event.idempotency_key == "pbx:1718.42:call.transcript:4"
    assert event.transcript == "customer: Hola\nagent: Buenas tardes" and len(event.segments) == 2
    for broken in ({"event": "call.exploded", "call_id": "1"}, {"event": "call.ended", "call_id": "a b"},
                   {"event": "call.ended", "call_id": "1", "status": "weird"},
                   {"event": "call.recording", "call_id": "1", "recording": {"url": "ftp://x/y"}},
                   {"event": "call.started", "call_id": "1", "sequence": -1}):
        with pytest.raises(pbx.MalformedCallEvent):
            pbx.parse_event(json.dumps(broken).encode())


@pytest.mark.parametrize(("body", "reason"), [
    (b"[]", "body is not an object"), (b'"call.ended"', "body is not an object"), (b"{not json", "body is not JSON")])
def test_a_pbx_body_that_is_not_one_json_object_is_refused_as_a_whole(body: bytes, reason: str) -> None:
    with pytest.raises(pbx.MalformedCallEvent, match=reason):
        pbx.parse_event(body)
