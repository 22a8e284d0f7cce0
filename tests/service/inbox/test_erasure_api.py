"""An admin erases a customer: their number and what they wrote are nowhere in the database, the media folder, the
assistant's tracker store or the logs afterwards; each case's chain still verifies, with an erasure marker."""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from handoff.app import create_app
from handoff.channels.whatsapp.signature import sign
from handoff.core import audit
from handoff.core.timeline import append_event
from handoff.reports.audit_export import export_case, verify_export
from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Call, Case, Identity, TimelineEvent
from tests.service.inbox.support import PASSWORD, create_agent
from tests.service.support.processes import free_port
from tests.service.support.whatsapp_webhooks import APP_SECRET, WA_ID, text_webhook

SENTENCE = "Mi hija Valentina nacio el 3 de marzo y necesito cambiar la direccion"
PHONE = f"+{WA_ID}"
MEDIA = b"\x89PNG fake image bytes of the customer's document"


@dataclass
class Stack:
    client: httpx.AsyncClient
    csrf: str
    settings: Settings


def rasa_tracker_store(path: Path, sender: str) -> None:
    """Rasa's SQLTrackerStore table (rasa/core/tracker_store.py SQLTrackerStore.SQLEvent) with this conversation."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                   "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                   "action_name VARCHAR(255), data TEXT)")
        db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', 1, ?)",
                   (sender, f'{{"event": "user", "text": "{SENTENCE}"}}'))
        db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('other', 'user', 1, "
                   "'{\"text\": \"someone else\"}')")


@pytest.fixture
async def stack(database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    settings = Settings(database_url=database_url, rasa_url=f"http://127.0.0.1:{free_port()}", bot_retries=0,
                        bot_timeout_seconds=2, media_dir=tmp_path / "media", secret_key="k" * 32,
                        whatsapp_app_secret=APP_SECRET, whatsapp_verify_token="verify",
                        whatsapp_access_token="token", whatsapp_phone_number_id="123",
                        whatsapp_api_base=f"http://127.0.0.1:{free_port()}",
                        rasa_tracker_db=str(tmp_path / "trackers.sqlite3"), retention_interval_seconds=0,
                        audit_checkpoint_minutes=0)
    asgi = create_app(settings)
    api = asgi.other_asgi_app
    async with api.router.lifespan_context(api), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://test") as client:
        await asyncio.to_thread(create_agent, database_url, "root@example.com", "admin")
        await asyncio.to_thread(create_agent, database_url, "boss@example.com", "supervisor")
        login = await client.post("/inbox/api/login", json={"email": "root@example.com", "password": PASSWORD})
        yield Stack(client, login.json()["csrf_token"], settings)


async def customer_with_everything(stack: Stack) -> tuple[str, str]:
    """A WhatsApp message through the signed door, then a media file, a call with a transcript on the same case."""
    body = text_webhook(SENTENCE, wamid="wamid.ERASEME1")
    answer = await stack.client.post("/webhooks/whatsapp", content=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)})
    assert answer.status_code == 200
    engine = create_engine(stack.settings.database_url)
    sessions = session_factory(engine)
    try:
        for _ in range(400):  # stored, then handed to people with a holding message (the assistant is down)
            async with sessions() as session:
                event = await session.scalar(select(TimelineEvent).where(TimelineEvent.text == SENTENCE))
                handed = event is not None and (await session.get(Case, event.case_id)).status != "bot"
            if handed:
                break
            await asyncio.sleep(0.05)
        assert event is not None
        stack.settings.media_dir.mkdir(parents=True, exist_ok=True)
        (stack.settings.media_dir / "ab12.png").write_bytes(MEDIA)
        async with sessions() as session, session.begin():
            case = await session.get(Case, event.case_id)
            assert case is not None
            await append_event(session, case, channel="whatsapp", direction="in", actor="customer", kind="message",
                               text="foto", payload={"media": {"path": "ab12.png", "mime_type": "image/png"}})
            session.add(Call(provider="twilio", provider_call_id="CA1", case_id=case.id,
                             customer_id=case.customer_id, direction="inbound", from_number=PHONE, to_number="+1555",
                             status="completed", transcript=SENTENCE))
            assert PHONE in set(await session.scalars(select(Identity.value)))
            await audit.record(session, "system", "merge_customers", case_id=case.id,  # as core/merge_evidence does
                               evidence={"kind": "verified_identity", "identity_kind": "phone", "value": PHONE})
        return event.customer_id, event.case_id
    finally:
        await engine.dispose()


async def database_holds(database_url: str, needles: list[str]) -> list[str]:
    """Which needles the database still holds anywhere: SQLite's file bytes; every PostgreSQL row as text."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        data = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        return [n for n in needles if n.encode() in data]
    engine = create_engine(database_url)
    found = []
    try:
        async with engine.connect() as connection:
            tables = (await connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars().all()
            for table in tables:
                rows = (await connection.execute(text(f'SELECT t::text FROM "{table}" t'))).scalars().all()
                for needle in needles:
                    hexed = needle.encode().hex()
                    if any(needle in row or hexed in row for row in rows):
                        found.append(f"{needle} in {table}")
    finally:
        await engine.dispose()
    return found


async def test_an_erased_customer_is_nowhere_and_their_cases_still_verify(
        stack: Stack, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    customer_id, case_id = await customer_with_everything(stack)
    rasa_tracker_store(tmp_path / "trackers.sqlite3", case_id)
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        before = await export_case(session, case_id)
    await engine.dispose()
    assert verify_export(before).ok
    assert await database_holds(database_url, [SENTENCE, WA_ID])  # the scan finds them while they are there

    refused = await stack.client.post(f"/inbox/api/customers/{customer_id}/erase", json={"reason": "GDPR art. 17"})
    assert refused.status_code == 403  # no CSRF token; and a supervisor may not erase
    supervisor = httpx.AsyncClient(transport=stack.client._transport, base_url="http://test")
    login = await supervisor.post("/inbox/api/login", json={"email": "boss@example.com", "password": PASSWORD})
    assert (await supervisor.post(f"/inbox/api/customers/{customer_id}/erase", json={"reason": "GDPR art. 17"},
                                  headers={"X-CSRF-Token": login.json()["csrf_token"]})).status_code == 403
    erased = await stack.client.post(f"/inbox/api/customers/{customer_id}/erase",
                                     json={"reason": "GDPR art. 17 request #42"},
                                     headers={"X-CSRF-Token": stack.csrf})
    assert erased.status_code == 200, erased.text
    done = erased.json()
    assert done["cases"] == [case_id] and done["events"] >= 3 and done["media_files"] == 1
    assert done["calls"] == 1 and done["identities"] >= 1 and done["webhooks"] == 1 and done["tracker_events"] == 1
    missing = await stack.client.post("/inbox/api/customers/nobody/erase", json={"reason": "GDPR art. 17"},
                                      headers={"X-CSRF-Token": stack.csrf})
    assert missing.status_code == 404

    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        after = await export_case(session, case_id)
        entries = await audit.entries(session)
        assert (await audit.verify(session)).ok  # the merge's evidence was redacted, its digest kept
    await engine.dispose()
    assert verify_export(after).ok and verify_export(before).ok
    assert [e["hash"] for e in after["events"][:len(before["events"])]] == [e["hash"] for e in before["events"]]
    marker = after["events"][-1]
    assert marker["kind"] == "erasure" and marker["payload"]["reason"] == "GDPR art. 17 request #42"
    assert marker["actor"].startswith("agent:") and marker["created_at"]
    assert all(e["text"] is None and e["content_salt"] is None for e in after["events"][:-1])
    assert entries[-1].action == "customer_erased" and entries[-1].detail["reason"] == "GDPR art. 17 request #42"

    await asyncio.sleep(0)
    assert await database_holds(database_url, [SENTENCE, WA_ID, "Valentina"]) == []
    assert [p for p in stack.settings.media_dir.rglob("*") if p.is_file()] == []
    tracker = (tmp_path / "trackers.sqlite3").read_bytes()
    assert SENTENCE.encode() not in tracker and b"someone else" in tracker
    logs = caplog.text  # every record of the test, the erasure's included
    assert "customer_erased" in logs and SENTENCE not in logs and WA_ID not in logs
    await supervisor.aclose()
