"""`GET|POST /webhooks/whatsapp` in-process over a real database: handshake, signatures, malformed bodies."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from handoff.app import create_app
from handoff.channels.whatsapp.ingest import WhatsAppIngest
from handoff.channels.whatsapp.signature import sign
from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Customer, InboundWebhook, RefusedWebhookItem, TimelineEvent, utcnow
from tests.service.inbox.support import PASSWORD, create_agent
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn, fixture
from tests.service.support.polling import until
from tests.service.support.processes import free_port
from tests.service.support.rasa_loopback import RasaLoopback
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.whatsapp_webhooks import APP_SECRET, text_webhook


def settings(database_url: str, tmp_path: Path, graph: GraphStandIn, **overrides: object) -> Settings:
    values = {"database_url": database_url, "rasa_url": f"http://127.0.0.1:{free_port()}", "bot_retries": 0,
              "whatsapp_app_secret": APP_SECRET, "whatsapp_verify_token": "verify-me",
              "whatsapp_access_token": TOKEN, "whatsapp_phone_number_id": PHONE_NUMBER_ID,
              "whatsapp_api_base": graph.base_url, "media_dir": tmp_path / "media", "secret_key": "k" * 32,
              "log_json": False, **overrides}
    return Settings(**values)


async def running(config: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The whole ASGI app with its lifespan (outbox worker, webhook resume) running."""
    asgi = create_app(config)
    api = asgi.other_asgi_app
    async with api.router.lifespan_context(api), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://test") as client:
        client.ingest = api.state.services.get(WhatsAppIngest)  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def client(database_url: str, tmp_path: Path, graph: GraphStandIn) -> AsyncIterator[httpx.AsyncClient]:
    async for client in running(settings(database_url, tmp_path, graph)):
        yield client


async def stored(database_url: str) -> tuple[int, int, int]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        counts = tuple([await session.scalar(select(func.count()).select_from(model))
                        for model in (InboundWebhook, TimelineEvent, Customer)])
    await engine.dispose()
    return counts  # type: ignore[return-value]


async def test_the_verification_handshake_echoes_the_challenge_only_for_our_token(client) -> None:
    ok = await client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                                        "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text, ok.headers["content-type"]) == (200, "1158201444", "text/plain; charset=utf-8")
    for params in ({"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
                   {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"}, {}):
        assert (await client.get("/webhooks/whatsapp", params=params)).status_code == 403


async def test_a_bad_or_missing_signature_gets_401_or_403_and_stores_nothing(client, database_url) -> None:
    body = text_webhook()
    missing = await client.post("/webhooks/whatsapp", content=body, headers={"Content-Type": "application/json"})
    forged = await client.post("/webhooks/whatsapp", content=body,
                               headers={"X-Hub-Signature-256": sign("not-the-secret", body)})
    tampered = await client.post("/webhooks/whatsapp", content=body.replace(b"pedido", b"pedid0"),
                                 headers={"X-Hub-Signature-256": sign(APP_SECRET, body)})
    garbage = await client.post("/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": "sha256=zz"})
    assert [r.status_code for r in (missing, forged, tampered, garbage)] == [401, 403, 403, 403]
    assert await stored(database_url) == (0, 0, 0)


WHOLE_BODY_FAULTS = {
    b"{not json": "body is not JSON",
    b"[]": "body is not an object",
    b'{"object": "page", "entry": []}': "object: Input should be 'whatsapp_business_account'",
    b'{"object": "whatsapp_business_account"}': "entry: Field required",
    b'{"object": "whatsapp_business_account", "entry": {}}': "entry: Input should be a valid list",
    b'{"object": "whatsapp_business_account", "entry": [], "x": NaN}': "NaN is not a JSON number",
    b'{"object": "whatsapp_business_account", "entry": [{"id": Infinity}]}': "Infinity is not a JSON number",
    b'{"object": "whatsapp_business_account", "entry": [{"id": -Infinity}]}': "-Infinity is not a JSON number",
    b'{"object": "whatsapp_business_account", "entry": [{"id": 1e400}]}': "1e400 is out of range",
    b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 5000 + b"]" * 5000 + b"}": "nested deeper",
}


async def test_signed_bodies_that_are_not_a_webhook_as_a_whole_get_400_and_store_nothing(client, database_url) -> None:
    """NaN and Infinity included: Python's json reads them, and a stored NaN used to break the case's export."""
    for body, reason in WHOLE_BODY_FAULTS.items():
        response = await client.post("/webhooks/whatsapp", content=body,
                                     headers={"X-Hub-Signature-256": sign(APP_SECRET, body)})
        assert response.status_code == 400, body[:80]
        assert response.json()["error"].startswith("malformed webhook: ") and reason in response.json()["error"]
    assert await stored(database_url) == (0, 0, 0)


async def test_a_signed_webhook_is_stored_acknowledged_then_processed(client, database_url) -> None:
    body = text_webhook("hola")
    response = await client.post("/webhooks/whatsapp", content=body,
                                 headers={"X-Hub-Signature-256": sign(APP_SECRET, body)})
    assert response.status_code == 200 and response.content == b""
    await client.ingest.drain()
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        row = await session.scalar(select(InboundWebhook))
        event = await session.scalar(select(TimelineEvent).where(TimelineEvent.direction == "in"))
    await engine.dispose()
    assert row.body == body and row.processed_at is not None and row.attempts == 0
    assert event.text == "hola" and event.provider_id == "wamid.TEXT1"


async def test_without_an_app_secret_the_endpoint_refuses_everything(database_url, tmp_path, graph) -> None:
    async for client in running(settings(database_url, tmp_path, graph, whatsapp_app_secret=None,
                                         whatsapp_verify_token=None)):
        body = text_webhook()
        unsigned = await client.post("/webhooks/whatsapp", content=body)
        signed = await client.post("/webhooks/whatsapp", content=body,
                                   headers={"X-Hub-Signature-256": sign("", body)})
        handshake = await client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "",
                                                                   "hub.challenge": "1"})
        assert (unsigned.status_code, signed.status_code, handshake.status_code) == (503, 503, 403)
    assert await stored(database_url) == (0, 0, 0)


async def test_a_mixed_batch_is_acknowledged_the_good_items_processed_and_the_bad_one_kept_visibly(
        client, database_url) -> None:
    """Meta retries a refused body for 7 days: one odd message must not lose the others in it."""
    data = fixture("webhook_text_message.json")
    value = data["entry"][0]["changes"][0]["value"]
    good = value["messages"][0]
    value["messages"] = [{**good, "id": "wamid.GOOD1", "text": {"body": "primero"}},
                         {**good, "id": "wamid.BAD", "timestamp": "9" * 30},
                         {**good, "id": "wamid.GOOD2", "text": {"body": "segundo"}},
                         {**good, "id": "wamid.NUL", "text": {"body": "hola\u0000"}}]  # PostgreSQL text cannot
    value["statuses"] = [{"id": "wamid.UNKNOWN", "status": "read", "timestamp": {"nested": "1750030073"}}]
    body = json.dumps(data).encode()
    response = await client.post("/webhooks/whatsapp", content=body,
                                 headers={"X-Hub-Signature-256": sign(APP_SECRET, body)})
    assert response.status_code == 200
    await client.ingest.drain()
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        texts = list(await session.scalars(select(TimelineEvent.text).where(TimelineEvent.direction == "in")
                                           .order_by(TimelineEvent.id)))
        row = await session.scalar(select(InboundWebhook))
    await engine.dispose()
    assert texts == ["primero", "segundo"]
    assert row.processed_at is not None and "3 item(s) refused" in row.last_error

    await asyncio.to_thread(create_agent, database_url, "boss@example.com", "supervisor")  # the app keeps running
    assert (await client.get("/inbox/api/webhooks/refused")).status_code == 401
    login = await client.post("/inbox/api/login", json={"email": "boss@example.com", "password": PASSWORD})
    assert login.status_code == 200
    listed = (await client.get("/inbox/api/webhooks/refused")).json()
    assert listed["total"] == 3
    by_path = {item["path"]: item for item in listed["items"]}
    bad = by_path["entry[0].changes[0].value.messages[1]"]
    assert bad["error"] == ("entry[0].changes[0].value.messages[1].timestamp: "
                            "must be Unix seconds within years 1970..9999")
    assert json.loads(bad["raw"])["id"] == "wamid.BAD" and bad["webhook_id"] == row.id
    assert "holds U+0000 (NUL)" in by_path["entry[0].changes[0].value.messages[3]"]["error"]
    status = by_path["entry[0].changes[0].value.statuses[0]"]
    assert "statuses[0].timestamp: must be Unix seconds" in status["error"]
    assert listed["failing"] == []


async def test_a_stored_webhook_whose_processing_keeps_failing_is_listed_to_supervisors(client, database_url) -> None:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        session.add(InboundWebhook(channel="whatsapp", body=b"{}", received_at=utcnow(), attempts=5,
                                   last_error="OperationalError: disk I/O error"))
    await engine.dispose()
    await asyncio.to_thread(create_agent, database_url, "lead@example.com", "admin")
    assert (await client.post("/inbox/api/login", json={"email": "lead@example.com",
                                                        "password": PASSWORD})).status_code == 200
    [failing] = (await client.get("/inbox/api/webhooks/refused")).json()["failing"]
    assert (failing["channel"], failing["attempts"], failing["last_error"]) == (
        "whatsapp", 5, "OperationalError: disk I/O error")


async def test_a_username_only_message_in_a_mixed_batch_is_answered_with_recipient(database_url, tmp_path,
                                                                                    graph) -> None:
    """Meta's documented username-only shape is a good item; a message naming no sender at all is kept apart."""
    data = fixture("webhook_text_username_only.json")
    value = data["entry"][0]["changes"][0]["value"]
    phone = fixture("webhook_text_message.json")["entry"][0]["changes"][0]["value"]
    user = value["messages"][0]
    value["contacts"] += phone["contacts"]
    value["messages"] = [{**user, "id": "wamid.USER"},
                         {"id": "wamid.NOBODY", "timestamp": user["timestamp"], "type": "text",
                          "text": {"body": "sin remitente"}},
                         {**phone["messages"][0], "id": "wamid.PHONE"}]
    body = json.dumps(data).encode()
    rasa = RasaLoopback(RasaStandIn()).start()
    try:
        async for client in running(settings(database_url, tmp_path, graph, rasa_url=rasa.url)):
            response = await client.post("/webhooks/whatsapp", content=body,
                                         headers={"X-Hub-Signature-256": sign(APP_SECRET, body)})
            assert response.status_code == 200
            await client.ingest.drain()
            sends = await until(lambda: asyncio.to_thread(lambda: len(graph.sends()) >= 2 and graph.sends()),
                                "both answers sent", explain=lambda: str(graph.requests))
    finally:
        rasa.stop()
    assert {s["text"]["body"]: (s.get("to"), s.get("recipient")) for s in sends} == {
        "Recibido: Does it come in another color?": ("16505551234", None),
        "Recibido: hola, quiero saber de mi pedido": (None, "MX.1502576394655843")}
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        inbound = list(await session.scalars(select(TimelineEvent.provider_id).where(TimelineEvent.direction == "in")
                                             .order_by(TimelineEvent.id)))
        row = await session.scalar(select(InboundWebhook))
        [refused] = list(await session.scalars(select(RefusedWebhookItem)))
    await engine.dispose()
    assert inbound == ["wamid.USER", "wamid.PHONE"]
    assert row.processed_at is not None and "1 item(s) refused" in row.last_error
    assert refused.path == "entry[0].changes[0].value.messages[1]" and json.loads(refused.raw)["id"] == "wamid.NOBODY"
