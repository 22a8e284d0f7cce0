"""The voice channel over SQLite and PostgreSQL with a recorded assistant: one customer and one case across
WhatsApp, webchat and the phone, numbered options chosen by keypad, and the migration matching the models."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.voice.assistant import VoiceAssistant, VoiceDeliverer
from handoff.channels.voice.calls import call_cards
from handoff.channels.voice.missed_calls import MissedCalls
from handoff.channels.voice.twilio import TwilioCall, parse_gather
from handoff.channels.voice.twiml import VoiceUrls
from handoff.channels.whatsapp.outbound import WhatsAppDeliverer, WhatsAppFollowUp
from handoff.channels.whatsapp.window import load_templates
from handoff.core.bot_client import RasaClient
from handoff.core.conversation import Conversations
from handoff.core.messages import InboundMessage
from handoff.core.operations import load_operations
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Call, Case, Customer, Identity, TimelineEvent
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.twilio_calls import CALLER, OUR_NUMBER

WA_ID = CALLER.lstrip("+")


@dataclass
class Phone:
    sessions: async_sessionmaker[AsyncSession]
    assistant: RasaStandIn
    conversations: Conversations
    voice: VoiceAssistant

    async def say(self, channel: str, kind: str, value: str, text: str, provider_id: str | None = None) -> None:
        received = await self.conversations.receive(InboundMessage(
            channel=channel, identity_kind=kind, identity_value=value, address=value.lstrip("+"), text=text,
            bot_input=text, provider_id=provider_id, verified=channel == "whatsapp", verified_by="whatsapp"))
        if received.to_bot and received.event_id is not None:
            await self.conversations.process(received.event_id)

    async def all(self, model: Any, order: Any = None) -> list[Any]:
        async with self.sessions() as session:
            return list(await session.scalars(select(model).order_by(order if order is not None else model.id)))


@pytest.fixture
async def phone(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Phone]:
    operations = load_operations(REPO_ROOT / "operations.yml")
    assistant = RasaStandIn()
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(assistant.handler)))
    templates = load_templates(operations.whatsapp_templates)
    deliverer = VoiceDeliverer()
    whatsapp = WhatsAppDeliverer(sessions, templates, lambda: None)
    conversations = build_services(sessions, operations, bot, {"whatsapp": whatsapp, "voice": deliverer}).conversations
    voice = VoiceAssistant(sessions, conversations, operations, deliverer,
                           MissedCalls(operations, WhatsAppFollowUp(templates, whatsapp), conversations.deliverers),
                           VoiceUrls.under("https://frontdoor.example.com"))
    yield Phone(sessions, assistant, conversations, voice)
    await bot.aclose()


def incoming(sid: str) -> TwilioCall:
    return TwilioCall(sid, CALLER, OUR_NUMBER, "inbound", "ringing")


async def test_a_caller_who_wrote_on_whatsapp_is_the_same_customer_and_case_in_time_order(phone: Phone) -> None:
    await phone.say("whatsapp", "phone", CALLER, "Hola, quiero saber de mi pedido", "wamid.W1")
    sid = "CA00000000000000000000000000000010"
    greeting = ET.fromstring(await phone.voice.incoming(incoming(sid)))
    assert greeting[0].tag == "Gather"
    phone.assistant.reply = lambda message: [{"text": "Quieres que te comunique con una persona?",
                                              "buttons": [{"title": "Sí", "payload": "/affirm"},
                                                          {"title": "No", "payload": "/deny"}]}]
    answer = ET.fromstring(await phone.voice.gather(incoming(sid), parse_gather({"SpeechResult": "¿Dónde está?"})))
    [gather] = answer
    assert gather.attrib["numDigits"] == "1"
    assert [say.text for say in gather] == ["Quieres que te comunique con una persona?",
                                            "Para Sí, marca 1. Para No, marca 2."]
    phone.assistant.reply = lambda message: [{"text": "Listo."}]
    await phone.voice.gather(incoming(sid), parse_gather({"Digits": "1"}))
    asked = [(turn["message"], turn["metadata"]["channel"]) for turn in phone.assistant.asked]
    assert asked == [("Hola, quiero saber de mi pedido", "whatsapp"), ("Donde esta?", "voice"), ("/affirm", "voice")]

    [customer] = await phone.all(Customer)
    [case] = await phone.all(Case)
    [call] = await phone.all(Call)
    assert (call.customer_id, call.case_id, case.channel) == (customer.id, case.id, "voice")
    assert [(i.kind, i.value, i.verified) for i in await phone.all(Identity)] == [("phone", CALLER, True)]
    events = await phone.all(TimelineEvent, TimelineEvent.seq)
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert [(e.channel, e.kind, e.direction) for e in events] == [
        ("whatsapp", "message", "in"), ("whatsapp", "message", "out"),
        ("voice", "call", "in"), ("voice", "message", "out"),  # the call starts, the greeting
        ("voice", "message", "in"), ("voice", "message", "out"),  # "¿Dónde está?" and the offer
        ("voice", "message", "in"), ("voice", "message", "out")]  # "Sí" pressed, the answer
    assert events[6].text == "Sí" and events[6].payload["input"] == "dtmf"
    assert events[4].text == "¿Dónde está?" and events[4].payload["bot_input"] == "Donde esta?"
    async with phone.sessions() as session:
        [card] = await call_cards(session, customer.id)
    assert card["event_ids"] == [events[2].id] and card["status"] == "in-progress"


async def test_a_phone_given_in_the_webchat_leads_the_call_to_that_customer(phone: Phone) -> None:
    phone.assistant.reply = lambda message: [
        {"text": "Te paso con una persona."},
        {"custom": {"handoff": {"reason": "explicit_request", "intent": "request_human",
                                "slots": {"phone": CALLER, "customer_name": "Ana"}}}}]
    await phone.say("webchat", "webchat", "visitor-1", "quiero hablar con alguien, mi cel es +52 55 1234 5678")
    [customer] = await phone.all(Customer)
    twiml = ET.fromstring(await phone.voice.incoming(incoming("CA00000000000000000000000000000011")))
    # people already hold the case the webchat opened: the call goes straight to them
    assert [child.tag for child in twiml] == ["Say", "Enqueue"] and twiml[1].text == "care"
    [call] = await phone.all(Call)
    [case] = await phone.all(Case)
    assert (call.customer_id, call.case_id, call.status) == (customer.id, case.id, "queued")
    phone_identity = [i for i in await phone.all(Identity) if i.kind == "phone"]
    assert [(i.value, i.verified) for i in phone_identity] == [(CALLER, False)]  # told, not proven
