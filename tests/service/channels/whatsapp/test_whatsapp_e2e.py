"""WhatsApp end to end: signed webhooks into the service process, the real trained assistant, the Graph stand-in."""
from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from handoff.core.timeline import verify_case
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Handoff, InboundWebhook, Outbox, PendingTurn, TimelineEvent
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.polling import until
from tests.service.support.whatsapp_webhooks import (
    APP_SECRET,
    WA_ID,
    button_reply_webhook,
    messages_webhook,
    post_signed,
    text_webhook,
)

pytestmark = pytest.mark.e2e


def whatsapp_env(graph: GraphStandIn, tmp_path: Path) -> dict[str, str]:
    return {"WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_VERIFY_TOKEN": "verify-me", "WHATSAPP_ACCESS_TOKEN": TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_API_BASE": graph.base_url,
            "MEDIA_DIR": str(tmp_path / "media"), "OUTBOX_BACKOFF_SECONDS": "0.05"}


class Store:
    """Reads the service's database from the test."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.sessions = session_factory(self.engine)

    async def scalar(self, query: Any) -> Any:
        async with self.sessions() as session:
            return await session.scalar(query)

    async def all(self, query: Any) -> list[Any]:
        async with self.sessions() as session:
            return list(await session.scalars(query))

    async def settled(self) -> bool:
        """Every webhook processed, every turn answered, every outbox row sent or failed."""
        return not any([
            await self.scalar(select(func.count()).select_from(InboundWebhook)
                              .where(InboundWebhook.processed_at.is_(None))),
            await self.scalar(select(func.count()).select_from(PendingTurn)),
            await self.scalar(select(func.count()).select_from(Outbox)
                              .where(Outbox.status.in_(("pending", "sending"))))])

    async def close(self) -> None:
        await self.engine.dispose()


async def answers_after(store: Store, body: bytes, base_url: str) -> list[TimelineEvent]:
    assert post_signed(base_url, body).status_code == 200
    await until(store.settled, "settled", timeout=90)
    return await store.all(select(TimelineEvent).where(TimelineEvent.direction == "out",
                                                       TimelineEvent.kind == "message").order_by(TimelineEvent.id))


async def test_a_signed_text_message_gets_the_assistants_answer_as_graph_json(service_factory, graph, tmp_path) -> None:
    service = service_factory(**whatsapp_env(graph, tmp_path))
    store = Store(service.database_url)
    [answer] = await answers_after(store, text_webhook("hola", wamid="wamid.E2E1"), service.base_url)
    assert answer.actor == "bot" and answer.text and answer.delivery_status == "accepted"
    assert graph.sends() == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                              "type": "text", "text": {"preview_url": False, "body": answer.text}}]
    assert graph.reads() == [{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.E2E1"}]
    [inbound] = await store.all(select(TimelineEvent).where(TimelineEvent.direction == "in"))
    async with store.sessions() as session:
        assert (await verify_case(session, inbound.case_id)).ok
    await store.close()
    service.stop()


async def test_a_button_reply_reaches_the_assistant_as_its_payload(service_factory, graph, tmp_path) -> None:
    service = service_factory(**whatsapp_env(graph, tmp_path))
    store = Store(service.database_url)
    answers = await answers_after(store, text_webhook("where is my order 999999", wamid="wamid.E2E2"),
                                  service.base_url)
    offers = [body for body in graph.sends() if body["type"] == "interactive"]
    assert offers, graph.sends()
    buttons = offers[-1]["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["/affirm", "/deny"]
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons)
    offer_wamid = await store.scalar(select(Outbox.provider_message_id).where(Outbox.event_id == answers[-1].id))
    yes = buttons[0]["reply"]
    await answers_after(store, button_reply_webhook(yes["id"], yes["title"], offer_wamid), service.base_url)
    [handoff] = await store.all(select(Handoff))
    assert handoff.direction == "to_human"  # the assistant understood /affirm and handed the case over
    tapped = await store.scalar(select(TimelineEvent).where(TimelineEvent.provider_id == "wamid.BUTTON1"))
    assert tapped.text == yes["title"] and tapped.payload["bot_input"] == "/affirm"
    tracker = httpx.get(f"{service.env['RASA_URL']}/conversations/{tapped.case_id}/tracker").json()
    assert tracker["latest_message"]["text"] == "/affirm" and tracker["latest_message"]["intent"]["name"] == "affirm"
    await store.close()
    service.stop()


async def test_the_same_webhook_twice_gives_one_event_and_one_answer(service_factory, graph, tmp_path) -> None:
    service = service_factory(**whatsapp_env(graph, tmp_path))
    store = Store(service.database_url)
    body = text_webhook("hola", wamid="wamid.E2E3")
    assert post_signed(service.base_url, body).status_code == 200
    answers = await answers_after(store, body, service.base_url)  # Meta's retry of the same delivery
    assert len(answers) == 1 and len(graph.sends()) == 1 and len(graph.reads()) == 1
    assert await store.scalar(select(func.count()).select_from(TimelineEvent)
                              .where(TimelineEvent.direction == "in")) == 1
    assert await store.scalar(select(func.count()).select_from(InboundWebhook)) == 2
    await store.close()
    service.stop()


async def test_killing_the_service_between_acknowledgement_and_processing_loses_nothing(
        service_factory, graph, tmp_path) -> None:
    env = {**whatsapp_env(graph, tmp_path), "WORK_LEASE_SECONDS": "2"}  # the dead worker's lease lapses quickly
    photo = b"\xff\xd8\xff\xe0 kill test photo"
    sha = graph.add_media("img-kill", photo)
    graph.hold_downloads = threading.Event()  # processing stops inside the media download
    service = service_factory(**env)
    store = Store(service.database_url)
    body = messages_webhook(
        {"id": "wamid.KILL1", "type": "image", "image": {"id": "img-kill", "mime_type": "image/jpeg", "sha256": sha}},
        {"id": "wamid.KILL2", "type": "text", "text": {"body": "hola"}})
    assert post_signed(service.base_url, body).status_code == 200
    assert await asyncio.to_thread(graph.download_started.wait, 60), "processing never started"
    service.process.stop(signal.SIGKILL)

    assert await store.scalar(select(func.count()).select_from(TimelineEvent)) == 0
    [row] = await store.all(select(InboundWebhook))
    assert row.processed_at is None and row.body == body
    graph.hold_downloads.set()

    restarted = service_factory(**env, DATABASE_URL=service.database_url)
    await until(store.settled, "processed after the restart", timeout=90)
    image, text = await store.all(select(TimelineEvent).where(TimelineEvent.direction == "in")
                                  .order_by(TimelineEvent.id))
    assert (image.provider_id, text.provider_id) == ("wamid.KILL1", "wamid.KILL2")
    assert (Path(env["MEDIA_DIR"]) / image.payload["media"]["path"]).read_bytes() == photo
    assert [s["to"] for s in graph.sends()] and all(s["to"] == WA_ID for s in graph.sends())
    assert graph.reads()[-1]["message_id"] == "wamid.KILL2"
    await store.close()
    restarted.stop()
