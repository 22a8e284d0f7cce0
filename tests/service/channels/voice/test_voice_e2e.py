"""The voice assistant end to end: signed Twilio requests into the service process and the real trained assistant."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from tests.service.support.stack import Service
from tests.service.support.twilio_calls import AUTH_TOKEN, CALLER, call_params, post_twilio_sync

pytestmark = pytest.mark.e2e
PROXY = "https://frontdoor.example.com"  # the URL configured in Twilio; the service sits behind it
HOURS = re.compile(r"(abiertos|cerrados).*\d{1,2}:\d{2}", re.IGNORECASE)


def test_a_spoken_question_about_opening_hours_is_answered_in_spanish(
        service_factory: Callable[..., Service]) -> None:
    service = service_factory(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=PROXY)
    sid = "CA00000000000000000000000000000e2e"
    greeted = post_twilio_sync(PROXY, "/webhooks/twilio/voice", call_params(sid, CallStatus="ringing"),
                               base_url=service.base_url)
    assert greeted.status_code == 200, greeted.text
    [gather] = ET.fromstring(greeted.text)
    assert gather.tag == "Gather" and gather.attrib["input"] == "speech dtmf" and gather.attrib["language"] == "es-MX"
    assert gather.attrib["action"] == f"{PROXY}/webhooks/twilio/voice/gather"

    answered = post_twilio_sync(PROXY, "/webhooks/twilio/voice/gather",
                                call_params(sid, SpeechResult="¿A qué hora abren?", Confidence="0.93"),
                                base_url=service.base_url)
    assert answered.status_code == 200, answered.text
    [listen] = ET.fromstring(answered.text)
    assert listen.tag == "Gather"  # answered, and listening again
    spoken = [(say.attrib["language"], say.text or "") for say in listen if say.tag == "Say"]
    assert spoken and all(language == "es-MX" for language, _ in spoken)
    assert any(HOURS.search(text) for _, text in spoken), spoken
    unsigned = post_twilio_sync(PROXY, "/webhooks/twilio/voice/gather", call_params(sid, SpeechResult="hola"),
                                base_url=service.base_url, signed=False)
    assert unsigned.status_code == 403
    service.stop()


def test_a_caller_asks_for_a_call_back_and_picks_the_afternoon_with_a_digit(
        service_factory: Callable[..., Service]) -> None:
    """The assistant's window question is read out as a digit menu; the caller's own number is the one called."""
    service = service_factory(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=PROXY)
    sid = "CA0000000000000000000000000000cb1e"
    post_twilio_sync(PROXY, "/webhooks/twilio/voice", call_params(sid, CallStatus="ringing"),
                     base_url=service.base_url)
    asked = post_twilio_sync(PROXY, "/webhooks/twilio/voice/gather",
                             call_params(sid, SpeechResult="¿me pueden llamar más tarde?", Confidence="0.9"),
                             base_url=service.base_url)
    [menu] = ET.fromstring(asked.text)
    said = " ".join(say.text or "" for say in menu if say.tag == "Say")
    assert menu.tag == "Gather" and menu.attrib.get("numDigits") == "1", asked.text
    assert "¿Cuándo te queda mejor?" in said and "Hoy por la tarde" in said and "marca 2" in said, said
    booked = post_twilio_sync(PROXY, "/webhooks/twilio/voice/gather", call_params(sid, Digits="2"),
                              base_url=service.base_url)
    [listen] = ET.fromstring(booked.text)
    spoken = " ".join(say.text or "" for say in listen if say.tag == "Say")
    assert f"Te llamaremos al número que termina en {CALLER[-4:]}" in spoken, spoken
    assert re.search(r"entre las 1[4-9]:\d\d y las 18:00", spoken), spoken  # the afternoon, today's or the next
    service.stop()
