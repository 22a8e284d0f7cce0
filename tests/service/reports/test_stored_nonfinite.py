"""Stored data can never make an export or a page fail: NaN and infinities already in the database (from an older
version, or another way in) render as strict JSON, and the export still verifies."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update

from handoff.app import create_app
from handoff.core.hashchain import event_hash
from handoff.reports.audit_export import verify_export
from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Handoff, TimelineEvent, utcnow
from tests.service.inbox.support import PASSWORD, create_agent
from tests.service.reports.conversation import misunderstood_case
from tests.service.support.processes import free_port

NAN, INF = float("nan"), float("inf")


def strict(text: str) -> Any:
    """What a browser's JSON.parse or any other strict reader accepts: no NaN or Infinity tokens."""
    def refuse(token: str) -> Any:
        raise ValueError(f"{token} in the response")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
async def supervisor(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = Settings(database_url=database_url, rasa_url=f"http://127.0.0.1:{free_port()}", bot_retries=0,
                      media_dir=tmp_path / "media", secret_key="k" * 32, log_json=False)
    asgi = create_app(config)
    api = asgi.other_asgi_app
    async with api.router.lifespan_context(api), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://test") as client:
        await asyncio.to_thread(create_agent, database_url, "boss@example.com", "supervisor")
        assert (await client.post("/inbox/api/login", json={"email": "boss@example.com",
                                                            "password": PASSWORD})).status_code == 200
        yield client


async def case_with_nonfinite_rows(database_url: str) -> str:
    """A real conversation, then rows as only a direct insert (or an older version) could leave them: NaN in a
    float column, and on SQLite (PostgreSQL's json type cannot hold NaN) a chained event whose payload has some."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        case, handoff = await misunderstood_case(session)
        await session.execute(update(Handoff).where(Handoff.id == handoff.id).values(confidence=NAN))
        if database_url.startswith("sqlite"):
            last = await session.scalar(select(TimelineEvent).where(TimelineEvent.case_id == case.id)
                                        .order_by(TimelineEvent.seq.desc()).limit(1))
            fields = {"case_id": case.id, "customer_id": case.customer_id, "seq": last.seq + 1, "channel": "whatsapp",
                      "direction": "in", "actor": "customer", "kind": "message", "text": "hola",
                      "payload": {"sent_at": NAN, "confidence": INF, "slots": {"amount": -INF}, "items": [1.5, NAN]},
                      "provider_id": None, "delivery_status": None, "created_at": utcnow(), "prev_hash": last.hash}
            await session.execute(insert(TimelineEvent).values(**fields, hash=event_hash(fields)))
        case_id = case.id
    await engine.dispose()
    return case_id


async def test_export_and_case_page_answer_strict_json_and_the_export_still_verifies(supervisor,
                                                                                     database_url) -> None:
    case_id = await case_with_nonfinite_rows(database_url)
    export = await supervisor.get(f"/inbox/api/cases/{case_id}/export.json")
    assert export.status_code == 200
    document = strict(export.text)
    sqlite = database_url.startswith("sqlite")
    check = verify_export(document)
    assert check.ok and check.checked == (8 if sqlite else 7), check
    assert document["transitions"][0]["confidence"] is None
    if sqlite:
        last = document["events"][-1]
        assert last["payload"] == {"sent_at": None, "confidence": None, "slots": {"amount": None},
                                   "items": [1.5, None]}
        tampered = json.loads(export.text)
        tampered["events"][-1]["payload"]["items"] = [2.5, None]  # the readable copy cannot drift from the hashed
        assert not verify_export(tampered).ok
    assert "payload_exact" not in document["events"][0]  # only where a payload needs it

    html = await supervisor.get(f"/inbox/api/cases/{case_id}/export.html")
    assert html.status_code == 200 and "hola" in html.text
    page = await supervisor.get(f"/inbox/api/cases/{case_id}")
    assert page.status_code == 200
    view = strict(page.text)
    assert view["events"] and (not sqlite or any(event["text"] == "hola" for event in view["events"]))
