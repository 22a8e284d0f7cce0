"""Overflow over a real SQLite and PostgreSQL: nobody online, the customer is offered the ways out as buttons in
their language; their one answer (button, digit or label) is caught before the assistant, recorded on the handoff,
the timeline and the audit log, and honoured: wait, WhatsApp, a callback, or the assistant keeping them company
until a person frees a slot."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from handoff.channels.whatsapp.outbound import WhatsAppDeliverer, WhatsAppFollowUp
from handoff.channels.whatsapp.window import load_templates
from handoff.core import audit
from handoff.core.agents import NewAgent, create_agent
from handoff.core.bot_client import RasaClient
from handoff.core.customers import find_by_identity
from handoff.core.messages import InboundMessage, OutboundMessage
from handoff.core.operations import load_operations
from handoff.core.overflow import payload
from handoff.inbox.actions import InboxActions
from handoff.inbox.auth import Principal
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Callback, Case, Handoff, Identity, Outbox, TimelineEvent
from tests.service.support.rasa_standin import RasaStandIn

OPERATIONS = load_operations(REPO_ROOT / "operations.yml")
HANDOFF = {"handoff": {"reason": "explicit_request", "intent": "request_human", "confidence": 0.99}}
WHATSAPP_NUMBER = "+525512345678"


def assistant(message: str) -> list[dict[str, Any]]:
    """Hands off when asked for a person, answers anything else."""
    if "persona" in message or "person" in message:
        return [{"text": "Te comunico con una persona"}, {"custom": HANDOFF}]
    return [{"text": f"Recibido: {message}"}]


@dataclass
class Widget:
    """The webchat door as the service sees it: what was pushed to each visitor."""

    staged_status = None

    delivered: list[tuple[str, OutboundMessage]] = field(default_factory=list)

    def address_for(self, identity_kind: str, value: str) -> str | None:
        return value if identity_kind == "webchat" else None

    async def stage(self, session: Any, event: Any, address: str, message: OutboundMessage) -> None:
        return None

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        self.delivered.append((address, message))

    async def typing(self, address: str, actor: str, on: bool) -> None:
        return None

    def last(self) -> OutboundMessage:
        return self.delivered[-1][1]


class World:
    def __init__(self, sessions) -> None:
        self.sessions = sessions
        self.rasa = RasaStandIn(reply=assistant)
        self.widget = Widget()
        self.bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                              client=httpx.AsyncClient(transport=httpx.MockTransport(self.rasa.handler)))
        templates = load_templates(OPERATIONS.whatsapp_templates)
        self.whatsapp = WhatsAppDeliverer(sessions, templates, lambda: None)
        deliverers = {"webchat": self.widget, "whatsapp": self.whatsapp}
        services = build_services(sessions, OPERATIONS, self.bot, deliverers,
                                  follow_up=WhatsAppFollowUp(templates, self.whatsapp))
        self.conversations, self.queues = services.conversations, services.queues
        self.actions = InboxActions(sessions, OPERATIONS, deliverers, services.events, self.queues)

    async def say(self, text: str, visitor: str, language: str = "es") -> str:
        received = await self.conversations.receive(InboundMessage(
            channel="webchat", identity_kind="webchat", identity_value=visitor, address=visitor, text=text,
            bot_input=text, language=language))
        if received.to_bot and received.event_id is not None:
            await self.conversations.process(received.event_id, received.turn)
        assert received.case_id is not None
        return received.case_id

    def asked(self) -> list[str]:
        return [body["message"] for body in self.rasa.asked]

    async def with_whatsapp(self, visitor: str) -> None:
        """The visitor proved their WhatsApp number earlier (a verification code)."""
        async with self.sessions() as session, session.begin():
            customer = await find_by_identity(session, "webchat", visitor)
            assert customer is not None
            session.add(Identity(customer_id=customer.id, kind="whatsapp", value=WHATSAPP_NUMBER, verified=True,
                                 verified_by="otp_whatsapp"))

    async def agent(self, email: str, teams: tuple[str, ...] = ("care",)) -> Principal:
        async with self.sessions() as session, session.begin():
            agent = await create_agent(session, NewAgent(email, email.split("@")[0], "agent", teams,
                                                         "a long password", 2), OPERATIONS.teams)
            agent.presence = "online"
        await self.queues.drain()
        return Principal(agent, "session", "csrf")

    async def case(self, case_id: str) -> Case:
        async with self.sessions() as session:
            return await session.get_one(Case, case_id)

    async def handoffs(self, case_id: str) -> list[Handoff]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Handoff).where(Handoff.case_id == case_id,
                                                                    Handoff.direction == "to_human")))

    async def kinds(self, case_id: str, kind: str) -> list[TimelineEvent]:
        async with self.sessions() as session:
            return list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id,
                                                                          TimelineEvent.kind == kind)
                                              .order_by(TimelineEvent.seq)))


@pytest.fixture
async def world(sessions):
    built = World(sessions)
    yield built
    await built.bot.aclose()


async def overflowed(world: World, visitor: str, language: str = "es") -> str:
    """The visitor asks for a person while nobody of the team is online."""
    await world.say("hola" if language == "es" else "hello", visitor, language)
    case_id = await world.say("quiero hablar con una persona" if language == "es" else "a person please", visitor,
                              language)
    assert (await world.case(case_id)).status == "queued"
    return case_id


async def test_nobody_online_the_visitor_is_offered_the_ways_out_as_buttons_in_their_language(world) -> None:
    case_id = await overflowed(world, "v-offer")
    offer = world.widget.last()
    assert offer.text is not None and "no hay nadie del equipo disponible" in offer.text
    assert "número 1 en la fila" in offer.text and "¿Qué prefieres?" in offer.text
    # an anonymous visitor: no WhatsApp to continue on, no number to ring
    assert [(reply.title, reply.payload) for reply in offer.quick_replies] == [
        ("Esperar", payload("wait")), ("Seguir con asistente", payload("assistant"))]
    [handoff] = await world.handoffs(case_id)
    assert (handoff.decision, handoff.overflow_offers, handoff.overflow_choice) == ("overflow", ["wait", "assistant"],
                                                                                    None)
    assert handoff.overflow_offered_at is not None
    english = await overflowed(world, "v-offer-en", "en")
    assert english != case_id
    assert [reply.title for reply in world.widget.last().quick_replies] == ["Wait", "Stay with assistant"]
    assert "Nobody from our team is available" in (world.widget.last().text or "")


async def test_waiting_is_recorded_once_and_the_customer_keeps_their_place(world) -> None:
    case_id = await overflowed(world, "v-wait")
    asked = len(world.rasa.asked)
    await world.say(payload("wait"), "v-wait")
    assert len(world.rasa.asked) == asked  # caught before the assistant
    told = world.widget.last()
    assert told.text is not None and "conservas tu lugar: eres el número 1 en la fila" in told.text
    [handoff] = await world.handoffs(case_id)
    assert handoff.overflow_choice == "wait" and handoff.overflow_chosen_at is not None
    [event] = await world.kinds(case_id, "overflow")
    assert (event.actor, event.payload["choice"], event.payload["handoff_id"]) == ("customer", "wait", handoff.id)
    async with world.sessions() as session:
        entries = [entry for entry in await audit.entries(session, case_id) if entry.action == "overflow_choice"]
        assert [entry.detail["choice"] for entry in entries] == ["wait"]
        assert (await audit.verify(session)).ok
    await world.say("4", "v-wait")  # one answer only: later messages are for people, as any queued message
    await world.say("cuánto falta?", "v-wait")
    assert len(world.rasa.asked) == asked
    assert [e.payload["choice"] for e in await world.kinds(case_id, "overflow")] == ["wait"]
    assert (await world.case(case_id)).status == "queued"


async def test_a_digit_or_the_label_typed_out_is_an_answer_too(world) -> None:
    digit = await overflowed(world, "v-digit")
    await world.say("1", "v-digit")
    label = await overflowed(world, "v-label")
    await world.say("seguir con ASISTENTE", "v-label")
    assert [(await world.handoffs(case_id))[0].overflow_choice for case_id in (digit, label)] == ["wait", "assistant"]


async def test_an_answer_outside_an_open_offer_goes_to_the_assistant_as_usual(world) -> None:
    case_id = await world.say(payload("wait"), "v-outside")
    await world.say("1", "v-outside")
    assert world.asked() == [payload("wait"), "1"]
    assert (await world.case(case_id)).status == "bot"
    assert await world.kinds(case_id, "overflow") == []


async def test_the_assistant_keeps_the_customer_company_and_people_take_over_when_a_slot_frees(world) -> None:
    case_id = await overflowed(world, "v-company")
    await world.say(payload("assistant"), "v-company")
    assert "sigo contigo mientras tanto" in (world.widget.last().text or "")
    await world.say("y cuándo llega mi pedido?", "v-company")
    assert world.asked()[-1] == "y cuándo llega mi pedido?"  # the assistant answers …
    assert world.widget.last().text == "Recibido: y cuándo llega mi pedido?"
    case = await world.case(case_id)
    assert (case.status, case.handoff_count) == ("queued", 1)  # … and the customer keeps their place
    [handoff] = await world.handoffs(case_id)
    assert handoff.ended_at is None and handoff.outcome is None  # never withdrawn for it
    await world.say("quiero hablar con una persona ya", "v-company")  # the assistant hands off again: not a 2nd
    assert "Ya estás en la fila (número 1)" in (world.widget.last().text or "")
    assert (await world.case(case_id)).handoff_count == 1 and len(await world.handoffs(case_id)) == 1
    rosa = await world.agent("rosa-company@example.com")  # a slot frees: people have the case
    case = await world.case(case_id)
    assert (case.status, case.assignee_id) == ("assigned", rosa.agent.id)
    asked = len(world.rasa.asked)
    await world.say("hola?", "v-company")
    assert len(world.rasa.asked) == asked  # now for the agent
    await world.actions.accept(rosa, case_id)
    assert world.widget.last().custom == {"agent_joined": "rosa-company"}  # the customer is told who joined


async def test_whatsapp_continues_the_case_on_the_verified_number_with_the_approved_template(world) -> None:
    await world.say("hola", "v-wa")
    await world.with_whatsapp("v-wa")
    case_id = await world.say("quiero hablar con una persona", "v-wa")
    assert [reply.payload for reply in world.widget.last().quick_replies] == [
        payload(choice) for choice in ("wait", "whatsapp", "callback", "assistant")]
    await world.say(payload("whatsapp"), "v-wa")
    assert "te escribimos al número que termina en 5678" in (world.widget.last().text or "")
    case = await world.case(case_id)
    assert (case.status, case.channel) == ("queued", "whatsapp")  # agents' replies go there now
    async with world.sessions() as session:
        [item] = list(await session.scalars(select(Outbox)))
    assert (item.channel, item.case_id, item.recipient) == ("whatsapp", case_id, WHATSAPP_NUMBER.lstrip("+"))
    body = item.payload["body"]
    assert body["type"] == "template" and body["template"]["name"] == "case_follow_up"
    assert (await world.handoffs(case_id))[0].overflow_choice == "whatsapp"


async def test_a_callback_is_asked_for_on_the_customer_number(world) -> None:
    await world.say("hola", "v-call")
    await world.with_whatsapp("v-call")
    case_id = await world.say("quiero hablar con una persona", "v-call")
    await world.say("Que me llamen", "v-call")
    assert "te llamaremos al número que termina en 5678" in (world.widget.last().text or "")
    assert (await world.handoffs(case_id))[0].overflow_choice == "callback"
    assert (await world.case(case_id)).status == "queued"
    async with world.sessions() as session:  # a callback in the team's queue, as soon as possible
        [callback] = list(await session.scalars(select(Callback)))
    assert (callback.case_id, callback.phone, callback.team, callback.status, callback.requested_by) == \
        (case_id, WHATSAPP_NUMBER, "care", "requested", "customer")
    assert (callback.window_end - callback.window_start).total_seconds() == 60 * 60
    assert [e.payload.get("event") for e in await world.kinds(case_id, "callback")] == ["requested"]


async def test_with_the_assistant_down_it_is_not_offered(world) -> None:
    await world.say("hola", "v-down")
    world.rasa.reply = lambda message: (_ for _ in ()).throw(httpx.ConnectError("down"))
    case_id = await world.say("sigues ahí?", "v-down")
    [handoff] = await world.handoffs(case_id)
    assert (handoff.reason, handoff.decision, handoff.overflow_offers) == ("bot_unavailable", "overflow", None)
    assert world.widget.last().quick_replies == ()
