"""A call handed to people after hours (SQLite and PostgreSQL): the caller hears when people are back and the call
ends (nobody would answer a queue overnight); the case is kept for the opening, not left waiting on the line."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from handoff.channels.voice.assistant import VoiceAssistant, VoiceDeliverer
from handoff.channels.voice.missed_calls import MissedCalls
from handoff.channels.voice.twilio import TwilioCall, parse_gather
from handoff.channels.voice.twiml import VoiceUrls
from handoff.channels.whatsapp.outbound import WhatsAppDeliverer, WhatsAppFollowUp
from handoff.channels.whatsapp.window import load_templates
from handoff.core.after_hours import hours_at
from handoff.core.bot_client import RasaClient
from handoff.core.operations import load_operations
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Call, Case
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.twilio_calls import CALLER, OUR_NUMBER

OPERATIONS = load_operations(REPO_ROOT / "operations.yml")
MX = ZoneInfo("America/Mexico_City")


def a_closed_evening() -> datetime:
    """A weekday 20:00 in Mexico City a week ahead whose next opening is the next morning at 09:00."""
    day = datetime.now(MX).replace(hour=20, minute=0, second=0, microsecond=0) + timedelta(days=7)
    while hours_at(OPERATIONS, day).next_open != (day + timedelta(days=1)).replace(hour=9):
        day += timedelta(days=1)
    return day


async def test_an_after_hours_call_is_told_the_opening_and_ends_with_its_case_kept(sessions) -> None:
    evening = a_closed_evening()
    assistant = RasaStandIn(reply=lambda message: [{"text": "Te comunico con una persona."},
                                                   {"custom": {"handoff": {"reason": "explicit_request"}}}])
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(assistant.handler)))
    templates = load_templates(OPERATIONS.whatsapp_templates)
    deliverer = VoiceDeliverer()
    whatsapp = WhatsAppDeliverer(sessions, templates, lambda: None)
    conversations = build_services(sessions, OPERATIONS, bot, {"whatsapp": whatsapp, "voice": deliverer},
                                   clock=lambda: evening).conversations
    voice = VoiceAssistant(sessions, conversations, OPERATIONS, deliverer,
                           MissedCalls(OPERATIONS, WhatsAppFollowUp(templates, whatsapp), conversations.deliverers),
                           VoiceUrls.under("https://frontdoor.example.com"))
    sid = "CA00000000000000000000000000000077"
    call = TwilioCall(sid, CALLER, OUR_NUMBER, "inbound", "ringing")
    await voice.incoming(call)
    answer = ET.fromstring(await voice.gather(call, parse_gather({"SpeechResult": "quiero hablar con alguien"})))

    said = [element.text for element in answer.iter("Say")]
    assert said[0] == "Te comunico con una persona."
    assert said[-1].startswith("Ahora estamos cerrados; abrimos mañana a las 09:00. Tu caso queda registrado")
    assert [element.tag for element in answer][-1] == "Hangup" and not list(answer.iter("Enqueue"))
    async with sessions() as session:
        case = await session.scalar(select(Case))
        stored = await session.scalar(select(Call))
        assert (case.status, case.kept_until is not None, case.opened_at) == ("queued", True, None)
        assert stored.status != "queued"  # never put on hold in a queue nobody answers
    await bot.aclose()
