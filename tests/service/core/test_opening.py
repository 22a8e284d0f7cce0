"""After hours on SQLite and PostgreSQL: a handoff while closed is told the opening and kept for it (queued, routed
to no one, never abandoned overnight); the opening pass routes it once, and reaches a WhatsApp customer whose
24-hour window closed with one approved template through the Graph stand-in. The instants are given (a clock)."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from handoff.channels.whatsapp.graph import GraphClient
from handoff.channels.whatsapp.ingest import WhatsAppIngest
from handoff.channels.whatsapp.media import MediaStore
from handoff.channels.whatsapp.outbound import WhatsAppDeliverer, WhatsAppFollowUp
from handoff.channels.whatsapp.window import as_utc, load_templates
from handoff.core.after_hours import hours_at
from handoff.core.agents import NewAgent, create_agent
from handoff.core.bot_client import RasaClient
from handoff.core.messages import InboundMessage, OutboundMessage
from handoff.core.opening import Openings
from handoff.core.operations import load_operations
from handoff.core.outbox import OutboxWorker
from handoff.core.sweeper import AbandonSweeper
from handoff.core.webhook_store import store_webhook
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Agent, Case, Customer, Handoff, TimelineEvent, utcnow
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.whatsapp_webhooks import WA_ID, text_webhook

OPERATIONS = load_operations(REPO_ROOT / "operations.yml")
MX = ZoneInfo("America/Mexico_City")
HANDOFF = {"handoff": {"reason": "complex_intent", "intent": "return_request", "confidence": 0.97,
                       "summary": "Quiere devolver el pedido 100003", "team": "returns"}}
TOLD = ("Ahora estamos cerrados; abrimos el lunes a las 09:00. Tu caso queda registrado y una persona te "
        "responderá entonces; no necesitas repetir nada.")


def plain_saturday_night() -> datetime:
    """A Saturday 20:00 in Mexico City, a week or more ahead, whose next opening is the plain Monday 09:00 (no
    holiday or closure in between), so the customer is told exactly "abrimos el lunes a las 09:00"."""
    day = datetime.now(MX).replace(hour=20, minute=0, second=0, microsecond=0) + timedelta(days=7)
    while True:
        day += timedelta(days=(5 - day.weekday()) % 7 or 7)
        status = hours_at(OPERATIONS, day)
        if status.reason == "closed" and status.next_open == (day + timedelta(days=2)).replace(hour=9):
            return day


class Clock:
    """The instant the service reads business hours at; the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Widget:
    """The web chat door as a deliverer that keeps what the customer was told."""

    staged_status = None

    def __init__(self) -> None:
        self.told: list[str] = []

    def address_for(self, identity_kind: str, value: str) -> str | None:
        return value if identity_kind == "webchat" else None

    async def stage(self, session, event, address: str, message: OutboundMessage) -> None:
        return None

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        self.told.append(message.text or "")

    async def typing(self, address: str, actor: str, on: bool) -> None:
        return None


def hands_off(message: str) -> list[dict]:
    return [{"text": "Te paso con Devoluciones"}, {"custom": HANDOFF}]


async def online_agent(sessions, email: str) -> str:
    async with sessions() as session, session.begin():
        agent = await create_agent(session, NewAgent(email, email.split("@")[0], "agent", ("returns",),
                                                     "a long password", 2), OPERATIONS.teams)
        agent.presence = "online"
        return agent.id


async def routing_payloads(sessions, case_id: str) -> list[dict]:
    async with sessions() as session:
        return [event.payload for event in await session.scalars(
            select(TimelineEvent).where(TimelineEvent.case_id == case_id, TimelineEvent.kind == "routing")
            .order_by(TimelineEvent.seq))]


async def test_a_handoff_after_hours_is_told_the_opening_kept_for_it_and_routed_then_once(sessions) -> None:
    clock = Clock(plain_saturday_night())
    widget = Widget()
    rasa = RasaStandIn(reply=hands_off)
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
    services = build_services(sessions, OPERATIONS, bot, {"webchat": widget}, clock=clock)
    openings = Openings(sessions, services.events, services.queues, OPERATIONS, {"webchat": widget}, None, clock)
    received = await services.conversations.receive(InboundMessage(
        channel="webchat", identity_kind="webchat", identity_value="night-visitor", address="night-visitor",
        text="quiero devolver mi pedido", bot_input="quiero devolver mi pedido", language="es"))
    await services.conversations.process(received.event_id)

    assert widget.told[-1] == TOLD
    async with sessions() as session:
        case = await session.get_one(Case, received.case_id)
        handoff = await session.scalar(select(Handoff).where(Handoff.case_id == case.id))
        assert (case.status, handoff.decision, handoff.decision_reason) == ("queued", "after_hours", "closed")
        assert as_utc(case.kept_until) == clock.now + timedelta(days=2, hours=-11) and case.opened_at is None

    ana = await online_agent(sessions, "ana-night@example.com")  # someone signs in on Sunday: not before the opening
    assert await services.queues.drain() == []
    assert await AbandonSweeper(sessions, services.events, timedelta(0)).sweep() == 0  # not abandoned overnight
    clock.now += timedelta(hours=12)  # Sunday morning: still closed
    assert await openings.open_kept() == []

    clock.now += timedelta(days=1, hours=1)  # Monday 09:00
    assert await openings.open_kept() == [received.case_id]
    assert await openings.open_kept() == []  # once
    async with sessions() as session:
        case = await session.get_one(Case, received.case_id)
        assert (case.status, case.assignee_id) == ("assigned", ana)
    payloads = await routing_payloads(sessions, received.case_id)
    assert [(p["decision"], p["reason"]) for p in payloads] == [("after_hours", "closed"), ("opening", "opened")]
    assert payloads[1]["reached"] == "routed"  # web chat: nothing to send, the agent writes in the widget
    await bot.aclose()


async def test_two_workers_open_each_kept_case_once(sessions) -> None:
    clock = Clock(plain_saturday_night())
    widget = Widget()
    rasa = RasaStandIn(reply=hands_off)
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
    services = build_services(sessions, OPERATIONS, bot, {"webchat": widget}, clock=clock)
    kept = []
    for n in range(6):
        received = await services.conversations.receive(InboundMessage(
            channel="webchat", identity_kind="webchat", identity_value=f"v-{n}", address=f"v-{n}",
            text="quiero devolver", bot_input="quiero devolver", language="es"))
        await services.conversations.process(received.event_id)
        kept.append(received.case_id)
    clock.now += timedelta(days=1, hours=13)
    workers = [Openings(sessions, services.events, services.queues, OPERATIONS, {"webchat": widget}, None, clock)
               for _ in range(2)]
    first, second = await asyncio.gather(*(worker.open_kept() for worker in workers), return_exceptions=True)
    opened = [case_id for result in (first, second) if isinstance(result, list) for case_id in result]
    # On SQLite one writer may find the database locked: it opens nothing, the next pass finds nothing left.
    assert sorted(opened) == sorted(kept)
    for case_id in kept:
        assert len(await routing_payloads(sessions, case_id)) == 2
    await bot.aclose()


async def test_a_whatsapp_customer_past_the_window_gets_one_template_at_the_opening(sessions, tmp_path) -> None:
    graph = GraphStandIn().start()
    clock = Clock(plain_saturday_night())  # a week or more after the customer's message: the window closed
    rasa = RasaStandIn(reply=hands_off)
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
    client = GraphClient(graph.base_url, PHONE_NUMBER_ID, TOKEN, timeout=10)
    outbox = OutboxWorker(sessions, {"whatsapp": client}, max_attempts=2, backoff=0.01, backoff_max=0.05)
    templates = load_templates(OPERATIONS.whatsapp_templates)
    deliverer = WhatsAppDeliverer(sessions, templates, outbox.wake)
    services = build_services(sessions, OPERATIONS, bot, {"whatsapp": deliverer}, clock=clock)
    ingest = WhatsAppIngest(sessions, services.conversations, MediaStore(tmp_path, client, 1024))
    openings = Openings(sessions, services.events, services.queues, OPERATIONS, {"whatsapp": deliverer},
                        WhatsAppFollowUp(templates, deliverer), clock)
    try:
        await ingest.process_row(await store_webhook(sessions, "whatsapp", text_webhook("quiero devolver mi pedido")))
        await outbox.drain()
        told = [body["text"]["body"] for body in graph.sends() if body.get("type") == "text"]
        assert told[-1] == TOLD  # within the window: the notice itself is free text
        async with sessions() as session:
            case_id = (await session.scalar(select(Case.id).where(Case.channel == "whatsapp")))
        clock.now += timedelta(days=1, hours=13)
        assert await openings.open_kept() == [case_id]
        assert await openings.open_kept() == []
        await outbox.drain()
        templates_sent = [body for body in graph.sends() if body.get("type") == "template"]
        assert len(templates_sent) == 1 and templates_sent[0]["to"] == WA_ID
        assert templates_sent[0]["template"]["name"] == "after_hours_opening"
        assert templates_sent[0]["template"]["language"]["code"] == "es_MX"
        assert (await routing_payloads(sessions, case_id))[-1]["reached"] == "template_sent"
        async with sessions() as session:
            event = await session.scalar(select(TimelineEvent).where(
                TimelineEvent.case_id == case_id, TimelineEvent.direction == "out")
                .order_by(TimelineEvent.seq.desc()).limit(1))
            assert event.text.startswith("Hola") and "ya abrimos" in event.text
            assert json.dumps(event.payload).count("after_hours_opening") >= 1
            assert (await session.scalar(select(Agent.id).limit(1))) is None  # nobody online: still queued, reached
            assert (await session.get_one(Case, case_id)).status == "queued"
        assert utcnow() < clock.now  # the instants are ahead of the wall clock: only the given clock decided
    finally:
        await ingest.close()
        await client.aclose()
        await bot.aclose()
        graph.stop()


async def test_a_whatsapp_customer_who_opted_out_gets_no_template_at_the_opening(sessions, tmp_path) -> None:
    graph = GraphStandIn().start()
    clock = Clock(plain_saturday_night())
    rasa = RasaStandIn(reply=hands_off)
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
    client = GraphClient(graph.base_url, PHONE_NUMBER_ID, TOKEN, timeout=10)
    outbox = OutboxWorker(sessions, {"whatsapp": client}, max_attempts=2, backoff=0.01, backoff_max=0.05)
    templates = load_templates(OPERATIONS.whatsapp_templates)
    deliverer = WhatsAppDeliverer(sessions, templates, outbox.wake)
    services = build_services(sessions, OPERATIONS, bot, {"whatsapp": deliverer}, clock=clock)
    ingest = WhatsAppIngest(sessions, services.conversations, MediaStore(tmp_path, client, 1024))
    openings = Openings(sessions, services.events, services.queues, OPERATIONS, {"whatsapp": deliverer},
                        WhatsAppFollowUp(templates, deliverer), clock)
    try:
        await ingest.process_row(await store_webhook(sessions, "whatsapp", text_webhook("quiero devolver mi pedido")))
        async with sessions() as session, session.begin():
            case = await session.scalar(select(Case).where(Case.channel == "whatsapp"))
            (await session.get_one(Customer, case.customer_id)).whatsapp_opted_out_at = utcnow()  # "baja" later
        await outbox.drain()
        sent = len(graph.sends())
        clock.now += timedelta(days=1, hours=13)
        assert await openings.open_kept() == [case.id]  # routed all the same
        await outbox.drain()
        assert len(graph.sends()) == sent  # but not written to
        assert (await routing_payloads(sessions, case.id))[-1]["reached"] == "opted_out"
    finally:
        await ingest.close()
        await client.aclose()
        await bot.aclose()
        graph.stop()
