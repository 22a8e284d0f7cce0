"""Overflow on the phone over SQLite and PostgreSQL: nobody online, the caller hears the choices with one digit each
(<Gather numDigits=1>); 1 waits in the team's queue, 2 continues on WhatsApp and 3 asks for a callback (the call ends
politely), 4 goes on with the voice assistant until a person is free."""
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
from handoff.channels.voice.missed_calls import MissedCalls
from handoff.channels.voice.twilio import TwilioCall, parse_gather
from handoff.channels.voice.twiml import VoiceUrls
from handoff.channels.whatsapp.outbound import WhatsAppDeliverer, WhatsAppFollowUp
from handoff.channels.whatsapp.window import load_templates
from handoff.core.agents import NewAgent, create_agent
from handoff.core.bot_client import RasaClient
from handoff.core.operations import load_operations
from handoff.core.queues import Queues
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Callback, Case, Handoff, Outbox
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.twilio_calls import CALLER, OUR_NUMBER

OPERATIONS = load_operations(REPO_ROOT / "operations.yml")


def assistant(message: str) -> list[dict[str, Any]]:
    if "persona" in message:
        return [{"text": "Te comunico con una persona."},
                {"custom": {"handoff": {"reason": "explicit_request", "intent": "request_human"}}}]
    return [{"text": f"Recibido: {message}"}]


@dataclass
class Phone:
    sessions: async_sessionmaker[AsyncSession]
    assistant: RasaStandIn
    voice: VoiceAssistant
    queues: Queues

    async def call(self, sid: str) -> ET.Element:
        return ET.fromstring(await self.voice.incoming(TwilioCall(sid, CALLER, OUR_NUMBER, "inbound", "ringing")))

    async def gather(self, sid: str, **params: str) -> ET.Element:
        return ET.fromstring(await self.voice.gather(TwilioCall(sid, CALLER, OUR_NUMBER, "inbound", "in-progress"),
                                                     parse_gather(params)))

    async def overflowed(self, sid: str) -> ET.Element:
        await self.call(sid)
        return await self.gather(sid, SpeechResult="Quiero hablar con una persona")

    async def only(self, model: Any) -> Any:
        async with self.sessions() as session:
            return (await session.scalars(select(model))).one()


@pytest.fixture
async def phone(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Phone]:
    standin = RasaStandIn(reply=assistant)
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(standin.handler)))
    templates = load_templates(OPERATIONS.whatsapp_templates)
    deliverer = VoiceDeliverer()
    whatsapp = WhatsAppDeliverer(sessions, templates, lambda: None)
    follow_up = WhatsAppFollowUp(templates, whatsapp)
    services = build_services(sessions, OPERATIONS, bot, {"whatsapp": whatsapp, "voice": deliverer},
                              follow_up=follow_up)
    voice = VoiceAssistant(sessions, services.conversations, OPERATIONS, deliverer,
                           MissedCalls(OPERATIONS, follow_up, services.conversations.deliverers),
                           VoiceUrls.under("https://frontdoor.example.com"))
    yield Phone(sessions, standin, voice, services.queues)
    await bot.aclose()


def says(element: ET.Element) -> list[str]:
    return [say.text or "" for say in element.iter("Say")]


async def test_the_caller_hears_each_choice_with_its_digit(phone: Phone) -> None:
    menu = await phone.overflowed("CA00000000000000000000000000000f01")
    [gather] = menu
    assert gather.tag == "Gather" and gather.attrib["numDigits"] == "1"
    heard = says(menu)
    assert heard[0] == "Te comunico con una persona."
    assert "no hay nadie del equipo disponible" in heard[1]
    assert heard[2] == ("Para esperar en la línea, marca 1. Para seguir por WhatsApp, marca 2. "
                        "Para que te llamemos, marca 3. Para seguir con el asistente, marca 4.")
    handoff = await phone.only(Handoff)
    assert handoff.overflow_offers == ["wait", "whatsapp", "callback", "assistant"]  # a verified caller id


async def test_1_waits_in_the_teams_queue(phone: Phone) -> None:
    sid = "CA00000000000000000000000000000f02"
    await phone.overflowed(sid)
    queued = await phone.gather(sid, Digits="1")
    assert [child.tag for child in queued] == ["Say", "Enqueue"] and queued[-1].text == "care"
    assert (await phone.only(Handoff)).overflow_choice == "wait"


async def test_2_continues_on_whatsapp_and_the_call_ends_politely(phone: Phone) -> None:
    sid = "CA00000000000000000000000000000f03"
    await phone.overflowed(sid)
    bye = await phone.gather(sid, Digits="2")
    assert [child.tag for child in bye] == ["Say", "Hangup"] and "te escribiremos por WhatsApp" in bye[0].text
    item = await phone.only(Outbox)
    assert item.recipient == CALLER.lstrip("+") and item.payload["body"]["template"]["name"] == "case_follow_up"
    case = await phone.only(Case)
    assert (case.status, case.channel) == ("queued", "whatsapp")
    assert (await phone.only(Handoff)).overflow_choice == "whatsapp"


async def test_3_asks_for_a_callback_and_the_call_ends_politely(phone: Phone) -> None:
    sid = "CA00000000000000000000000000000f04"
    await phone.overflowed(sid)
    bye = await phone.gather(sid, Digits="3")
    assert [child.tag for child in bye] == ["Say", "Hangup"] and "te llamaremos" in bye[0].text
    assert (await phone.only(Handoff)).overflow_choice == "callback"
    callback = await phone.only(Callback)  # the caller's number, in the team's callback queue
    assert (callback.phone, callback.team, callback.status) == (CALLER, "care", "requested")


async def test_4_goes_on_with_the_assistant_until_a_person_is_free(phone: Phone) -> None:
    sid = "CA00000000000000000000000000000f05"
    await phone.overflowed(sid)
    company = await phone.gather(sid, Digits="4")
    assert company[0].tag == "Gather" and "sigo contigo" in says(company)[0]
    answer = await phone.gather(sid, SpeechResult="¿Cuándo llega mi pedido?")
    assert answer[0].tag == "Gather" and says(answer) == ["Recibido: Cuando llega mi pedido?"]
    assert phone.assistant.asked[-1]["message"] == "Cuando llega mi pedido?"
    async with phone.sessions() as session, session.begin():  # a person comes online: the queue drains to them
        agent = await create_agent(session, NewAgent("rosa-voice@example.com", "Rosa", "agent", ("care",),
                                                     "a long password", 2), OPERATIONS.teams)
        agent.presence = "online"
    await phone.queues.drain()
    asked = len(phone.assistant.asked)
    to_people = await phone.gather(sid, SpeechResult="¿Sigues ahí?")
    assert to_people[-1].tag == "Enqueue" and len(phone.assistant.asked) == asked
    case = await phone.only(Case)
    assert (case.status, case.assignee_id, case.handoff_count) == ("assigned", agent.id, 1)


async def test_asking_for_a_person_again_while_with_the_assistant_puts_the_call_in_the_queue(phone: Phone) -> None:
    sid = "CA00000000000000000000000000000f06"
    await phone.overflowed(sid)
    await phone.gather(sid, Digits="4")
    again = await phone.gather(sid, SpeechResult="una persona por favor")
    assert again[-1].tag == "Enqueue" and "Ya estás en la fila" in says(again)[-1]
    assert (await phone.only(Case)).handoff_count == 1
