"""The voice channel in-process: the whole ASGI app (lifespan included) over a real database, Rasa unreachable
unless a test brings the real one, and the Graph API stand-in of the WhatsApp tests for the missed-call follow-up."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.core.operations import Operations
from handoff.settings import Settings
from handoff.store.models import Call, Customer, Outbox, TimelineEvent
from handoff.web.deps import Services
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.processes import free_port
from tests.service.support.twilio_calls import AUTH_TOKEN, CALL_EVENTS_SECRET
from tests.service.support.whatsapp_webhooks import APP_SECRET

PUBLIC = "https://frontdoor.example.com"  # what Twilio is configured with; the app itself is reached at https://test


def voice_settings(database_url: str, tmp_path: Path, graph: GraphStandIn, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url, "rasa_url": f"http://127.0.0.1:{free_port()}", "bot_retries": 0,
        "public_base_url": PUBLIC, "twilio_auth_token": AUTH_TOKEN, "call_events_secret": CALL_EVENTS_SECRET,
        "whatsapp_app_secret": APP_SECRET, "whatsapp_verify_token": "verify-me", "whatsapp_access_token": TOKEN,
        "whatsapp_phone_number_id": PHONE_NUMBER_ID, "whatsapp_api_base": graph.base_url,
        "outbox_backoff_seconds": 0.05, "media_dir": tmp_path / "media", "secret_key": "k" * 32, "log_json": False,
        **overrides}
    return Settings(**values)


@dataclass
class VoiceApp:
    client: httpx.AsyncClient
    services: Services
    database_url: str

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.services.get(async_sessionmaker)

    @property
    def operations(self) -> Operations:
        return self.services.get(Operations)

    async def count(self, model: Any, *where: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def rows(self, model: Any, *where: Any, order: Any = None) -> list[Any]:
        async with self.sessions() as session:
            query = select(model).where(*where).order_by(order if order is not None else model.id)
            return list(await session.scalars(query))

    async def stored(self) -> tuple[int, int, int, int]:
        return (await self.count(Call), await self.count(TimelineEvent), await self.count(Customer),
                await self.count(Outbox))


async def running(config: Settings) -> AsyncIterator[VoiceApp]:
    asgi = create_app(config)
    api = asgi.other_asgi_app
    # https: the inbox cookie is Secure when PUBLIC_BASE_URL is https
    async with api.router.lifespan_context(api), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="https://test", timeout=30) as client:
        yield VoiceApp(client, api.state.services, config.database_url)


@pytest.fixture
async def voice(database_url: str, tmp_path: Path, graph: GraphStandIn) -> AsyncIterator[VoiceApp]:
    async for app in running(voice_settings(database_url, tmp_path, graph)):
        yield app
