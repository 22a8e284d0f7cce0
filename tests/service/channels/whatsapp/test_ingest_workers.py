"""Two workers (two engines, two ingests) storing one customer's messages at once on PostgreSQL: one case, one chain."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.channels.whatsapp.graph import GraphClient
from handoff.channels.whatsapp.ingest import WhatsAppIngest
from handoff.channels.whatsapp.media import MediaStore
from handoff.channels.whatsapp.outbound import WhatsAppDeliverer
from handoff.channels.whatsapp.window import load_templates
from handoff.core.bot_client import RasaClient
from handoff.core.customers import resolve_customer
from handoff.core.operations import load_operations
from handoff.core.timeline import verify_case
from handoff.core.webhook_store import store_webhook
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, Customer, TimelineEvent
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.servers import Postgres
from tests.service.support.whatsapp_webhooks import text_webhook

pytestmark = pytest.mark.postgres
MESSAGES = 12


@pytest.fixture
async def engines(postgres_server: Postgres) -> AsyncIterator[list[AsyncEngine]]:
    url = postgres_server.migrated_database(f"t{uuid.uuid4().hex[:12]}")
    pair = [create_engine(url), create_engine(url)]
    yield pair
    for engine in pair:
        await engine.dispose()


def worker(engine: AsyncEngine, media_dir: Path) -> tuple[WhatsAppIngest, RasaClient, GraphClient]:
    """One service process's WhatsApp ingest, with its own engine (its own connections)."""
    sessions = session_factory(engine)
    operations = load_operations(REPO_ROOT / "operations.yml")
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(RasaStandIn().handler)))
    graph = GraphClient("http://127.0.0.1:9", "0", "token", timeout=1)  # nothing is sent in this test
    deliverer = WhatsAppDeliverer(sessions, load_templates(operations.whatsapp_templates), lambda: None)
    conversations = build_services(sessions, operations, bot, {"whatsapp": deliverer}).conversations
    return WhatsAppIngest(sessions, conversations, MediaStore(media_dir, graph, 1024)), bot, graph


async def test_a_returning_customers_messages_on_two_workers_open_one_case(engines: list[AsyncEngine],
                                                                          tmp_path: Path) -> None:
    first, second = session_factory(engines[0]), session_factory(engines[1])
    async with first() as session, session.begin():  # known customer, no open case: each message would open one
        await resolve_customer(session, "phone", "+16505551234", verified=True, verified_by="whatsapp")
    workers = [worker(engine, tmp_path / "media") for engine in engines]
    rows = [await store_webhook(first, "whatsapp", text_webhook(f"mensaje {n}", wamid=f"wamid.C{n}"))
            for n in range(MESSAGES)]
    await asyncio.gather(*(workers[n % 2][0].process_row(row) for n, row in enumerate(rows)))
    async with second() as session:
        inbound = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.direction == "in")))
        assert len(inbound) == MESSAGES
        assert await session.scalar(select(func.count()).select_from(Customer)) == 1
        assert await session.scalar(select(func.count()).select_from(Case)) == 1
        assert (await verify_case(session, inbound[0].case_id)).ok
    for ingest, bot, graph in workers:
        await ingest.close()
        await bot.aclose()
        await graph.aclose()
