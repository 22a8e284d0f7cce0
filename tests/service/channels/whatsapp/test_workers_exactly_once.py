"""Three WhatsApp workers (own engines) on one PostgreSQL database: stored webhooks and the outbox are each
processed once, and a dead worker's items are taken over after its lease (stored webhooks) or shown failed
rather than resent (a send that may have reached Meta)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from handoff.channels.whatsapp.graph import GraphClient
from handoff.channels.whatsapp.ingest import WhatsAppIngest
from handoff.channels.whatsapp.media import MediaStore
from handoff.channels.whatsapp.outbound import WhatsAppDeliverer, WhatsAppFollowUp
from handoff.channels.whatsapp.window import load_templates
from handoff.core.bot_client import RasaClient
from handoff.core.cases import latest_case, open_case
from handoff.core.customers import resolve_customer
from handoff.core.messages import OutboundMessage
from handoff.core.notifications import Notifier
from handoff.core.operations import load_operations
from handoff.core.outbox import OutboxWorker
from handoff.core.timeline import verify_case
from handoff.core.webhook_store import store_webhook
from handoff.integrations.registry import Integrations
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import InboundWebhook, Notification, Outbox, TimelineEvent, utcnow
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.whatsapp_webhooks import WA_ID, text_webhook
from tests.service.support.workers import Sessions, at_once, worker_sessions

pytestmark = pytest.mark.postgres
__all__ = ["worker_sessions"]
LEASE = timedelta(seconds=4)  # longer than storing one webhook takes on a loaded machine
BACKLOG = 24
OPERATIONS = load_operations(REPO_ROOT / "operations.yml")


@dataclass
class Worker:
    """One service process's WhatsApp side: ingest, conversations, outbox, its own Rasa stand-in's count."""

    sessions: Sessions
    rasa: RasaStandIn
    bot: RasaClient
    graph: GraphClient
    outbox: OutboxWorker
    deliverer: WhatsAppDeliverer
    ingest: WhatsAppIngest

    async def settle(self) -> None:
        """Processes what it claimed, then sends what is staged."""
        await self.ingest.drain()
        while await self.outbox.drain() is not None:
            await asyncio.sleep(0.02)


@pytest.fixture
async def workers(worker_sessions: list[Sessions], graph: GraphStandIn, tmp_path: Path) -> AsyncIterator[list[Worker]]:
    operations = OPERATIONS
    built = []
    for sessions in worker_sessions:
        rasa = RasaStandIn()
        bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                         client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
        client = GraphClient(graph.base_url, PHONE_NUMBER_ID, TOKEN, timeout=10)
        outbox = OutboxWorker(sessions, {"whatsapp": client}, max_attempts=4, backoff=0.01, backoff_max=0.05,
                              stale_after=1.0)
        deliverer = WhatsAppDeliverer(sessions, load_templates(operations.whatsapp_templates), outbox.wake)
        conversations = build_services(sessions, operations, bot, {"whatsapp": deliverer}, lease=LEASE).conversations
        ingest = WhatsAppIngest(sessions, conversations, MediaStore(tmp_path / "media", client, 1024), lease=LEASE)
        built.append(Worker(sessions, rasa, bot, client, outbox, deliverer, ingest))
    yield built
    for worker in built:
        await worker.ingest.close()
        await worker.bot.aclose()
        await worker.graph.aclose()


def answers(graph: GraphStandIn) -> list[str]:
    return sorted(text for text in graph.texts_to(WA_ID) if text.startswith("Recibido"))


async def test_three_workers_share_a_backlog_of_stored_webhooks_each_processed_and_answered_once(
        workers: list[Worker], graph: GraphStandIn) -> None:
    sessions = workers[0].sessions
    for n in range(BACKLOG):  # acknowledged before a restart: nobody holds them
        await store_webhook(sessions, "whatsapp", text_webhook(f"mensaje {n:02d}", wamid=f"wamid.B{n:02d}"))
    claimed = await at_once([worker.ingest.resume for worker in workers])
    await at_once([worker.settle for worker in workers])

    assert sum(claimed) == BACKLOG  # type: ignore[arg-type]
    asked = sorted(body["message"] for worker in workers for body in worker.rasa.asked)
    assert asked == [f"mensaje {n:02d}" for n in range(BACKLOG)]  # each turn once, across the workers
    assert answers(graph) == sorted(f"Recibido: mensaje {n:02d}" for n in range(BACKLOG))  # each answer sent once
    async with sessions() as session:
        inbound = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.direction == "in")))
        assert sorted(e.provider_id for e in inbound) == [f"wamid.B{n:02d}" for n in range(BACKLOG)]
        assert await session.scalar(select(func.count()).select_from(InboundWebhook)
                                    .where(InboundWebhook.processed_at.is_(None))) == 0
        assert (await verify_case(session, inbound[0].case_id)).ok
    assert sum(await at_once([worker.ingest.resume for worker in workers])) == 0  # type: ignore[arg-type]


async def test_a_webhook_a_dead_worker_accepted_is_processed_by_another_once_its_lease_lapses(
        workers: list[Worker], graph: GraphStandIn) -> None:
    survivor = workers[1]
    # Worker 0 stored it (its lease taken with the insert), acknowledged Meta, and died before processing it.
    row_id = await store_webhook(workers[0].sessions, "whatsapp", text_webhook("hola?", wamid="wamid.DEAD"),
                                 hold=LEASE)
    assert await survivor.ingest.resume() == 0  # still held: the live worker might be processing it
    await asyncio.sleep(LEASE.total_seconds() + 0.2)
    assert await survivor.ingest.resume() == 1
    await survivor.settle()
    assert sum(await at_once([worker.ingest.resume for worker in workers])) == 0  # type: ignore[arg-type]

    assert [body["message"] for body in survivor.rasa.asked] == ["hola?"]
    assert answers(graph) == ["Recibido: hola?"]
    async with survivor.sessions() as session:
        assert (await session.get(InboundWebhook, row_id)).processed_at is not None


async def test_three_outbox_workers_send_each_row_once_in_order_per_customer(workers: list[Worker],
                                                                             graph: GraphStandIn) -> None:
    customers = [f"+165055512{n:02d}" for n in range(6)]
    for round_ in range(4):
        for phone in customers:
            await stage_text(workers[0], phone, f"{phone} #{round_}")
    await at_once([worker.settle for worker in workers])
    for phone in customers:
        assert graph.texts_to(phone.lstrip("+")) == [f"{phone} #{n}" for n in range(4)]  # once each, in order
    assert len(graph.sends()) == 4 * len(customers)


async def test_a_send_a_dead_worker_started_is_failed_for_review_and_the_next_message_goes_out(
        workers: list[Worker], graph: GraphStandIn) -> None:
    first = await stage_text(workers[0], "+16505550100", "uno")
    await stage_text(workers[0], "+16505550100", "dos")
    assert await workers[0].outbox._claim(first) is not None  # claimed (sending), then the worker died
    await asyncio.sleep(1.2)  # longer than any send takes (stale_after): Meta may or may not have it
    await at_once([worker.settle for worker in workers])
    assert graph.texts_to("16505550100") == ["dos"]  # "uno" is never sent a second time
    async with workers[1].sessions() as session:
        row = await session.get(Outbox, first)
        assert row.status == "failed" and "interrupted" in row.last_error  # shown to agents on the message


async def stage_text(worker: Worker, phone: str, text: str) -> int:
    """A message staged on the outbox, as an agent's reply is; returns the outbox row's id."""
    async with worker.sessions() as session, session.begin():
        customer = await resolve_customer(session, "phone", phone, verified=True, verified_by="whatsapp")
        case = await latest_case(session, customer.id) or await open_case(session, customer, "whatsapp",
                                                                          follow_up_window_hours=72)
    event_id = await worker.deliverer.send(case.id, "system", OutboundMessage(actor="system", text=text))
    async with worker.sessions() as session:
        return int(await session.scalar(select(Outbox.id).where(Outbox.event_id == event_id)))


async def test_held_notifications_released_by_three_workers_are_each_sent_once(workers: list[Worker],
                                                                              graph: GraphStandIn) -> None:
    shipped = ["Sheena", "A-1001", "https://t.example/A-1001"]
    sessions = workers[0].sessions
    shop = (await Integrations(sessions, b"k" * 32).create("cli", "shop", ["notifications:send"])).integration["id"]
    phones = [f"+165055530{n:02d}" for n in range(8)]
    async with sessions() as session, session.begin():  # held in quiet hours that have now ended
        for n, phone in enumerate(phones):
            customer = await resolve_customer(session, "phone", phone, verified=True, verified_by="whatsapp")
            session.add(Notification(integration_id=shop, idempotency_key=f"k{n}", customer_id=customer.id,
                                     channel="whatsapp", template="order_shipped", language="es_MX",
                                     parameters=shipped, status="held", reason="quiet_hours",
                                     due_at=utcnow() - timedelta(seconds=1), detail={"phone": phone}))
    wanted = OPERATIONS.notifications.model_copy(update={"quiet_hours": None})
    operations = OPERATIONS.model_copy(update={"notifications": wanted})
    notifiers = [Notifier(w.sessions, operations, WhatsAppFollowUp(load_templates(wanted.templates), w.deliverer),
                          {"whatsapp": w.deliverer}) for w in workers]
    await at_once([notifier.release_due for notifier in notifiers for _ in range(2)])
    await at_once([worker.settle for worker in workers])

    templates = [body["to"] for body in graph.sends() if body.get("type") == "template"]
    assert sorted(templates) == sorted(phone.lstrip("+") for phone in phones)  # each once
    async with sessions() as session:
        assert set(await session.scalars(select(Notification.status))) == {"sent"}
        assert await session.scalar(select(func.count()).select_from(Outbox)) == len(phones)
