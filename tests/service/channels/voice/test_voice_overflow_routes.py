"""Overflow on the phone through the whole app and signed Twilio requests, the assistant on loopback and the Graph
stand-in: nobody online, the caller hears the menu; 2 ends the call and the case continues on their WhatsApp
(the approved template reaches the Graph stand-in); 4 keeps the voice assistant listening."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from handoff.store.models import Case, Handoff
from tests.service.channels.voice.conftest import PUBLIC, VoiceApp, running, voice_settings
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.polling import until
from tests.service.support.rasa_loopback import RasaLoopback
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.twilio_calls import CALLER, call_params, post_twilio

VOICE = "/webhooks/twilio/voice"


def assistant(message: str) -> list[dict[str, Any]]:
    if "persona" in message:
        return [{"text": "Te comunico con una persona."},
                {"custom": {"handoff": {"reason": "explicit_request", "intent": "request_human"}}}]
    return [{"text": f"Recibido: {message}"}]


@pytest.fixture
async def served(database_url: str, tmp_path: Path, graph: GraphStandIn) -> AsyncIterator[tuple[VoiceApp, RasaStandIn]]:
    standin = RasaStandIn(reply=assistant)
    rasa = RasaLoopback(standin).start()
    try:
        async for app in running(voice_settings(database_url, tmp_path, graph, rasa_url=rasa.url)):
            yield app, standin
    finally:
        rasa.stop()


async def post(app: VoiceApp, path: str, sid: str, **params: str) -> ET.Element:
    response: httpx.Response = await post_twilio(app.client, PUBLIC, path, call_params(sid, **params))
    assert response.status_code == 200, response.text
    return ET.fromstring(response.text)


async def menu(app: VoiceApp, sid: str) -> ET.Element:
    await post(app, VOICE, sid)
    heard = await post(app, f"{VOICE}/gather", sid, SpeechResult="Quiero hablar con una persona", Confidence="0.9")
    assert heard[0].tag == "Gather" and heard[0].attrib["numDigits"] == "1"
    return heard


async def test_2_ends_the_call_and_the_case_continues_on_whatsapp(served, graph: GraphStandIn) -> None:
    app, _standin = served
    sid = "CA000000000000000000000000000000a1"
    heard = await menu(app, sid)
    assert "Para seguir por WhatsApp, marca 2." in (heard[0][-1].text or "")
    bye = await post(app, f"{VOICE}/gather", sid, Digits="2")
    assert [child.tag for child in bye] == ["Say", "Hangup"]
    await until(lambda: _template_sent(graph), "the WhatsApp template sent")
    [body] = graph.sends()
    assert body["to"] == CALLER.lstrip("+") and body["template"]["name"] == "case_follow_up"
    [case] = await app.rows(Case)
    [handoff] = await app.rows(Handoff)
    assert (case.status, case.channel, handoff.overflow_choice) == ("queued", "whatsapp", "whatsapp")


async def _template_sent(graph: GraphStandIn) -> bool:
    return any(body.get("type") == "template" for body in graph.sends())


async def test_4_keeps_the_voice_assistant_listening(served) -> None:
    app, standin = served
    sid = "CA000000000000000000000000000000a2"
    await menu(app, sid)
    company = await post(app, f"{VOICE}/gather", sid, Digits="4")
    assert company[0].tag == "Gather" and "sigo contigo" in (company[0][0].text or "")
    answer = await post(app, f"{VOICE}/gather", sid, SpeechResult="¿Y mi pedido?", Confidence="0.9")
    assert answer[0].tag == "Gather" and answer[0][0].text == "Recibido: Y mi pedido?"
    assert standin.asked[-1]["message"] == "Y mi pedido?"
    [handoff] = await app.rows(Handoff)
    assert (handoff.overflow_choice, handoff.ended_at) == ("assistant", None)
