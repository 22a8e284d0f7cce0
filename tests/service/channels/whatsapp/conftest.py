"""The WhatsApp channel assembled in-process over a real database and the Graph API stand-in."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.whatsapp.graph import GraphClient
from handoff.channels.whatsapp.ingest import WhatsAppIngest
from handoff.channels.whatsapp.media import MediaStore
from handoff.channels.whatsapp.outbound import WhatsAppDeliverer
from handoff.channels.whatsapp.window import load_templates
from handoff.core.bot_client import RasaClient
from handoff.core.conversation import Conversations
from handoff.core.operations import load_operations
from handoff.core.outbox import OutboxWorker
from handoff.core.webhook_store import store_webhook
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import TimelineEvent, utcnow
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.rasa_standin import RasaStandIn


@dataclass
class Channel:
    sessions: async_sessionmaker[AsyncSession]
    graph: GraphStandIn
    rasa: RasaStandIn
    client: GraphClient
    outbox: OutboxWorker
    deliverer: WhatsAppDeliverer
    conversations: Conversations
    ingest: WhatsAppIngest
    media_dir: Path

    async def webhook(self, body: bytes) -> int:
        """As the route does after the signature check: store, then process; then send what was staged."""
        row_id = await store_webhook(self.sessions, "whatsapp", body)
        await self.ingest.process_row(row_id)
        await self.flush()
        return row_id

    async def flush(self) -> None:
        """Sends the outbox until nothing is pending (retries included)."""
        while (next_due := await self.outbox.drain()) is not None:
            await asyncio.sleep(max((next_due - utcnow()).total_seconds(), 0))

    async def events(self, **where: Any) -> list[TimelineEvent]:
        async with self.sessions() as session:
            query = select(TimelineEvent).order_by(TimelineEvent.id)
            for key, value in where.items():
                query = query.where(getattr(TimelineEvent, key) == value)
            return list(await session.scalars(query))


@pytest.fixture
async def channel(sessions, graph: GraphStandIn, tmp_path: Path) -> AsyncIterator[Channel]:
    operations = load_operations(REPO_ROOT / "operations.yml")
    rasa = RasaStandIn()
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
    client = GraphClient(graph.base_url, PHONE_NUMBER_ID, TOKEN, timeout=10)
    outbox = OutboxWorker(sessions, {"whatsapp": client}, max_attempts=4, backoff=0.01, backoff_max=0.05)
    deliverer = WhatsAppDeliverer(sessions, load_templates(operations.whatsapp_templates), outbox.wake)
    conversations = build_services(sessions, operations, bot, {"whatsapp": deliverer}).conversations
    media_dir = tmp_path / "media"
    ingest = WhatsAppIngest(sessions, conversations, MediaStore(media_dir, client, 1024 * 1024))
    yield Channel(sessions, graph, rasa, client, outbox, deliverer, conversations, ingest, media_dir)
    await ingest.close()
    await client.aclose()
    await bot.aclose()
