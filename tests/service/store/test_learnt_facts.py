"""Facts kept as they are learnt, and re-asks counted, on SQLite and PostgreSQL.

Before: an order number, email or phone told to the assistant reached the customer only with a handoff, so a
customer who got their answer and came back through another door was asked again; and nothing counted it.
"""
from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from handoff.core.bot_client import RasaClient
from handoff.core.conversation import Conversations
from handoff.core.learnt import learnt_facts, may_teach, reasked
from handoff.core.messages import InboundMessage
from handoff.core.operations import load_operations
from handoff.core.timeline import verify_case
from handoff.inbox import views
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Case, Customer, CustomerKey, Identity, TimelineEvent
from tests.service.store.test_conversation import RecordingDeliverer
from tests.service.support.rasa_standin import RasaStandIn


class Supervisor:
    """A reader of every case."""

    id, role, teams = "s1", "supervisor", ()


ASK_ORDER = [{"text": "¿Cuál es tu número de pedido?"}, {"custom": {"asked": "order_number"}}]


def webchat(text: str, visitor: str = "visitor-7") -> InboundMessage:
    return InboundMessage(channel="webchat", identity_kind="webchat", identity_value=visitor, address=visitor,
                          text=text, bot_input=text, language="es")


def whatsapp(text: str, phone: str) -> InboundMessage:
    return InboundMessage(channel="whatsapp", identity_kind="phone", identity_value=phone, address=phone[1:],
                          text=text, bot_input=text, verified=True, verified_by="whatsapp", language="es")


def assistant(sessions, rasa: RasaStandIn) -> tuple[Conversations, RecordingDeliverer]:
    deliverer = RecordingDeliverer()
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
    services = build_services(sessions, load_operations(REPO_ROOT / "operations.yml"), bot,
                              {"webchat": deliverer, "whatsapp": deliverer})
    return services.conversations, deliverer


async def turn(conversations: Conversations, message: InboundMessage) -> str:
    received = await conversations.receive(message)
    await conversations.process(received.event_id, received.turn)
    assert received.case_id is not None
    return received.case_id


async def test_facts_told_in_a_normal_turn_are_kept_and_known_at_the_next_door(sessions) -> None:
    rasa = RasaStandIn()

    def answers(message: str) -> list[dict[str, Any]]:
        if "100002" in message:  # the assistant's slots after this turn, as Rasa's tracker would hold them
            rasa.slots.update(order_number="100002", email="Ana.Lopez@Example.MX", phone="55 1234 5678")
        return [{"text": "Tu pedido 100002 va en camino"}]

    rasa.reply = answers
    conversations, _ = assistant(sessions, rasa)
    case_id = await turn(conversations, webchat("hola"))
    asks = rasa.slot_asks  # the first turn asks for the language
    await turn(conversations, webchat("y mi pedido?"))
    assert rasa.slot_asks == asks  # no digit, no '@': nothing to learn, not asked
    await turn(conversations, webchat("es el 100002, ana.lopez@example.mx, tel 55 1234 5678"))
    assert rasa.slot_asks == asks + 1  # asked in the turn that may teach
    assert rasa.tracker_reads == 0  # reported in the turn's own answer: no second request

    async with sessions() as session:
        case = await session.get_one(Case, case_id)
        customer = await session.get_one(Customer, case.customer_id)
        identities = {(i.kind, i.value, i.verified) for i in await session.scalars(
            select(Identity).where(Identity.customer_id == customer.id))}
        keys = set((await session.execute(select(CustomerKey.kind, CustomerKey.value)
                                          .where(CustomerKey.customer_id == customer.id))).tuples())
        assert (await verify_case(session, case_id)).ok
    assert case.status == "bot" and case.handoff_count == 0  # no handoff needed to keep them
    assert customer.facts == {"order_number": "100002", "email": "ana.lopez@example.mx", "phone": "+525512345678"}
    assert ("phone", "+525512345678", False) in identities  # a call or WhatsApp from it finds her
    assert {("order", "100002"), ("email", "ana.lopez@example.mx")} <= keys  # and agents find her by them

    rasa.reply = lambda message: [{"text": "Hola de nuevo"}]
    await turn(conversations, whatsapp("hola, soy yo otra vez", "+525512345678"))  # the next door
    known = rasa.asked[-1]["metadata"]["known"]
    assert known["order_number"] == "100002" and known["email"] == "ana.lopez@example.mx"
    assert rasa.asked[-1]["metadata"]["customer"]["id"] == customer.id


async def test_an_assistant_that_does_not_report_slots_has_its_tracker_read(sessions) -> None:
    rasa = RasaStandIn(reports_slots=False)  # a Rasa without the service's channel (e.g. mid-upgrade)
    rasa.reply = lambda message: [{"text": "Va en camino"}]
    conversations, _ = assistant(sessions, rasa)
    await turn(conversations, webchat("hola"))
    assert rasa.tracker_reads == 0  # the widget told the language; nothing to learn
    rasa.slots["order_number"] = "100002"
    case_id = await turn(conversations, webchat("es el 100002"))
    assert rasa.slot_asks == 1 and rasa.tracker_reads == 1  # asked, not reported: read once
    async with sessions() as session:
        customer = await session.get_one(Customer, (await session.get_one(Case, case_id)).customer_id)
    assert customer.facts == {"order_number": "100002"}


async def test_asking_for_a_fact_already_given_is_a_reask_on_the_timeline_and_the_case(sessions) -> None:
    rasa = RasaStandIn(reply=lambda message: ASK_ORDER)
    conversations, deliverer = assistant(sessions, rasa)
    case_id = await turn(conversations, webchat("quiero saber de mi pedido"))  # not known yet: a fair question
    rasa.slots["order_number"] = "100002"
    rasa.reply = lambda message: [{"text": "Va en camino"}]
    await turn(conversations, webchat("100002"))
    rasa.reply = lambda message: ASK_ORDER
    await turn(conversations, webchat("y cuando llega?"))  # asked again for what it was told

    async with sessions() as session:
        case = await session.get_one(Case, case_id)
        bot = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id,
                                                                     TimelineEvent.actor == "bot")
                                         .order_by(TimelineEvent.seq)))
        assert (await verify_case(session, case_id)).ok
    assert [(event.text, event.payload.get("reask")) for event in bot] == [
        ("¿Cuál es tu número de pedido?", None), ("Va en camino", None), ("¿Cuál es tu número de pedido?",
                                                                          ["order_number"])]
    assert case.reask_turns == 1
    async with sessions() as session:  # agents see it on the case's timeline
        view = await views.case_view(session, case, Supervisor())
    assert [event["payload"].get("reask") for event in view["events"] if event["actor"] == "bot"] == [
        None, None, ["order_number"]]
    assert all(not message.custom for _, message in deliverer.delivered)  # the signal never reaches the customer
    assert [message.text for _, message in deliverer.delivered].count("¿Cuál es tu número de pedido?") == 2


def test_what_a_turn_teaches_and_what_is_a_reask() -> None:
    assert may_teach("pedido 100002") and may_teach("ana@x.mx") and not may_teach("donde esta mi pedido?")
    slots = {"order_number": "100002", "email": "not an email", "phone": "55 1234 5678", "language": "es"}
    assert learnt_facts(slots, {}, "MX") == {"order_number": "100002", "phone": "+525512345678"}
    assert learnt_facts(slots, {"order_number": "100002", "phone": "+525512345678"}, "MX") == {}
    assert learnt_facts({"order_number": None, "phone": True}, {}, "MX") == {}
    assert reasked(["order_number", "email"], {"order_number": "100002", "email": ""}) == ["order_number"]
