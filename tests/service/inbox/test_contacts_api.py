"""The customer page's API, the contacts CSV upload and `python -m handoff contacts import`, over a served app.

Before: the inbox had no customer page, and customers could not be imported at all.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handoff.core.customers import resolve_contact
from handoff.core.timeline import append_event
from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Customer
from tests.service.inbox.support import AgentClient
from tests.service.inbox.support import create_agent as store_agent
from tests.service.support.merging import case_with_events
from tests.service.support.processes import REPO
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import app_settings, served_app, served_standin
from tests.service.support.stack import VENV

PHONE = "+525512345678"


@dataclass(frozen=True)
class Story:
    ana: str
    other: str
    web: str
    whatsapp: str
    voice: str
    fraud: str


async def _story(settings: Settings) -> Story:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            ana = (await resolve_contact(session, "whatsapp", PHONE, verified=True, verified_by="whatsapp",
                                         display_name="Ana <b>Pérez</b>")).customer
            ana.facts = {"order_number": "100002"}
            web = await case_with_events(session, ana, "webchat", "resolved", team="care", texts=("hola",),
                                         age_hours=48)
            whatsapp = await case_with_events(session, ana, "whatsapp", "resolved", team="care",
                                              texts=tuple(f"mensaje {n}" for n in range(60)), age_hours=24)
            voice = await case_with_events(session, ana, "voice", "queued", team="care", texts=("llamada",))
            fraud = await case_with_events(session, ana, "webchat", "queued", team="fraud", texts=("fraude",))
            other = (await resolve_contact(session, "webchat", "visitor-x", display_name="Visitante")).customer
            await case_with_events(session, other, "webchat", "queued", team="care", texts=("soy ana",))
            await append_event(session, whatsapp, channel="voice", direction="in", actor="customer", kind="message",
                               text="y por teléfono")
        return Story(ana.id, other.id, web.id, whatsapp.id, voice.id, fraud.id)
    finally:
        await engine.dispose()


@pytest.fixture
async def api(workdir: Path) -> AsyncIterator[tuple[str, Story, Settings]]:
    async with served_standin(RasaStandIn()) as rasa_url:
        settings = app_settings(workdir, rasa_url, inbox_login_attempts=1000)
        story = await _story(settings)
        store_agent(settings.database_url, "care@example.com", teams="care")
        store_agent(settings.database_url, "boss@example.com", role="supervisor", teams="")
        async with served_app(settings) as base_url:
            yield base_url, story, settings


async def _client(base_url: str, email: str) -> AgentClient:
    client = AgentClient(base_url)
    assert (await client.login(email)).status_code == 200
    return client


async def test_the_customer_page_shows_every_case_and_channel_by_the_reading_rule(api) -> None:
    base_url, story, _ = api
    care, boss = await _client(base_url, "care@example.com"), await _client(base_url, "boss@example.com")
    try:
        page = (await care.get(f"/customers/{story.ana}/page")).json()
        assert page["customer"]["name"] == "Ana <b>Pérez</b>" and page["customer"]["facts"] == {
            "order_number": "100002"}
        assert page["customer"]["identities"] == [{"kind": "whatsapp", "value": PHONE, "verified": True,
                                                   "verified_by": "whatsapp"}]
        assert page["customer"]["whatsapp_opted_out"] is False
        cases = {case["id"]: case for case in page["cases"]}
        assert list(cases) == [story.voice, story.whatsapp, story.web]  # newest first; fraud's is not care's
        assert cases[story.whatsapp]["channels"] == ["voice", "whatsapp"]
        whatsapp = cases[story.whatsapp]
        assert len(whatsapp["events"]) == 50 and whatsapp["events"][-1]["text"] == "y por teléfono"
        earlier = (await care.get(f"/customers/{story.ana}/cases/{story.whatsapp}/timeline",
                                  params={"before": whatsapp["more_before"]})).json()
        assert [e["text"] for e in earlier["events"]] == [f"mensaje {n}" for n in range(11)]
        assert earlier["more_before"] is None
        assert cases[story.web]["more_before"] is None and cases[story.web]["events"][0]["text"] == "hola"
        assert (await care.get(f"/customers/{story.ana}/cases/{story.fraud}/timeline",
                               params={"before": 10**9})).status_code == 403
        assert (await care.get(f"/customers/{story.other}/cases/{story.web}/timeline",
                               params={"before": 1})).status_code == 404
        assert [c["id"] for c in (await boss.get(f"/customers/{story.ana}/page")).json()["cases"]][0] == story.fraud

        merged = await boss.post(f"/customers/{story.ana}/merge", {"other_id": story.other})
        assert merged.status_code == 200
        page = (await boss.get(f"/customers/{story.ana}/page")).json()
        [merge] = page["merges"]
        assert (merge["id"], merge["other_name"], merge["undone_at"]) == (merged.json()["merge_id"], "Visitante",
                                                                           None)
        assert (await boss.get(f"/customers/{story.other}/page")).status_code == 404  # merged away
        assert (await boss.post(f"/merges/{merge['id']}/undo")).status_code == 200
        assert (await boss.get(f"/customers/{story.ana}/page")).json()["merges"][0]["undone_at"] is not None
        assert (await boss.get(f"/customers/{story.other}/page")).status_code == 200
        assert (await boss.get(f"/customers/{'0' * 32}/page")).status_code == 404
    finally:
        await care.close()
        await boss.close()


CSV = ("name,phone,email,crm_id,language\n"
       "Ana Pérez,55 1234 5678,ana@example.com,CRM-1,es\n"  # Ana's WhatsApp number: matched
       "Luis,+52 55 0000 0001,,CRM-2,en\n"
       "Luis,5500000001,,CRM-2,en\n"  # the same again: matched to the row above
       "Eva,+52 55 0000 0003,,CRM-3,\n"
       "Eva,+52 55 0000 0004,,CRM-3,\n"  # CRM-3 with another phone: both rows conflict
       "Nadie,,,,\n")


async def test_a_supervisor_uploads_a_dry_run_then_the_import(api) -> None:
    base_url, story, _ = api
    care, boss = await _client(base_url, "care@example.com"), await _client(base_url, "boss@example.com")
    upload = {"file": ("contacts.csv", CSV.encode(), "text/csv")}
    try:
        headers = {"X-CSRF-Token": boss.csrf or ""}
        dry = await boss.http.post("/inbox/api/contacts/import", files=upload, headers=headers)
        assert dry.status_code == 200, dry.text
        report = dry.json()
        assert report["dry_run"] and report["counts"] == {"new": 1, "matched": 2, "conflict": 2, "invalid": 1}
        assert [(r["row"], r["outcome"]) for r in report["rows"]] == [
            (2, "matched"), (3, "new"), (4, "matched"), (5, "conflict"), (6, "conflict"), (7, "invalid")]
        assert report["rows"][0]["customer_id"] == story.ana and report["rows"][2]["same_as"] == 3
        assert report["rows"][3]["reason"] == ("crm_id CRM-3 with two phones: +525500000003 (row 5), "
                                               "+525500000004 (row 6)")
        done = (await boss.http.post("/inbox/api/contacts/import", files=upload, data={"dry_run": "false"},
                                     headers=headers)).json()
        assert not done["dry_run"] and (done["created"], done["updated"]) == (1, 1)
        assert done["rows"][1]["customer_id"] == done["rows"][2]["customer_id"] is not None
        identities = (await boss.get(f"/customers/{story.ana}/page")).json()["customer"]["identities"]
        assert [(i["kind"], i["value"], i["verified"]) for i in identities] == [
            ("whatsapp", PHONE, True), ("crm", "CRM-1", False), ("email", "ana@example.com", False)]
        refused = await care.http.post("/inbox/api/contacts/import", files=upload,
                                       headers={"X-CSRF-Token": care.csrf or ""})
        assert refused.status_code == 403  # agents do not import
        assert (await boss.http.post("/inbox/api/contacts/import", files=upload)).status_code == 403  # no CSRF
        bad = await boss.http.post("/inbox/api/contacts/import", headers=headers,
                                   files={"file": ("x.csv", b"nombre,telefono\nx,y\n", "text/csv")})
        assert bad.status_code == 400 and "crm_id" in bad.json()["detail"]
    finally:
        await care.close()
        await boss.close()


def test_the_shell_imports_the_same_file_with_a_dry_run_first(workdir: Path) -> None:
    """`python -m handoff contacts import` on a database no app is serving (SQLite: one writer at a time)."""
    settings = app_settings(workdir, "http://127.0.0.1:9")
    asyncio.run(_story(settings))
    path = Path(settings.database_url.split("///")[1]).with_suffix(".csv")
    path.write_text(CSV, encoding="utf-8")
    command = [str(VENV / "bin" / "python"), "-m", "handoff", "contacts", "import", str(path), "--dry-run"]
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    ran = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[:2] == ["dry run: nothing written", "new 1 · matched 2 · conflict 2 · invalid 1"]
    assert "row 5: conflict: crm_id CRM-3 with two phones" in ran.stdout and "row 7: invalid: no phone" in ran.stdout
    for _ in range(2):  # the import, then the same file again: everything is already there
        ran = subprocess.run(command[:-1], cwd=REPO, env=env, capture_output=True, text=True, check=False)
        assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[:2] == ["imported: 0 customers created, 0 updated",
                                           "new 0 · matched 3 · conflict 2 · invalid 1"]

    async def count() -> int:
        engine = create_engine(settings.database_url)
        async with session_factory(engine)() as session:
            found = int(await session.scalar(select(func.count()).select_from(Customer)) or 0)
        await engine.dispose()
        return found

    assert asyncio.run(count()) == 3  # Ana, the visitor, Luis
