"""The search box and the case list over HTTP: what they find, the reading rule, the filters, pages and refusals.

Before: `GET /inbox/api/search` and `GET /inbox/api/cases` answered 404 (the inbox listed the queue and "my cases").
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from handoff.core.cases import open_case
from handoff.core.customers import resolve_contact
from handoff.core.timeline import append_event
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Handoff
from tests.service.inbox.support import AgentClient
from tests.service.inbox.support import create_agent as store_agent
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import app_settings, served_app, served_standin

PHONE = "+525512345678"


@dataclass(frozen=True)
class Story:
    maria: str
    care_case: str  # María (WhatsApp +52 55 1234 5678): "necesito el reembolso de mi tarjeta", care, queued
    fraud_case: str  # Luis: "reembolso de una tarjeta clonada", fraud, resolved with CSAT 2


async def _story(sessions) -> Story:
    async with sessions() as session, session.begin():
        maria = (await resolve_contact(session, "whatsapp", PHONE, verified=True, verified_by="whatsapp",
                                       display_name="María José Pérez")).customer
        care = await open_case(session, maria, "whatsapp", follow_up_window_hours=72)
        care.team, care.status = "care", "queued"
        await append_event(session, care, channel="whatsapp", direction="in", actor="customer", kind="message",
                           text="Hola, necesito el reembolso de mi tarjeta")
        luis = (await resolve_contact(session, "webchat", "visitor-luis", display_name="Luis Núñez")).customer
        fraud = await open_case(session, luis, "webchat", follow_up_window_hours=72)
        fraud.team, fraud.status, fraud.csat = "fraud", "resolved", 2
        await append_event(session, fraud, channel="webchat", direction="in", actor="customer", kind="message",
                           text="Quiero el REEMBOLSO de una tarjeta clonada")
        await session.flush()
        session.add(Handoff(case_id=fraud.id, reason="customer_asked", team="fraud"))
    return Story(maria.id, care.id, fraud.id)


@pytest.fixture
async def api(workdir: Path) -> AsyncIterator[tuple[dict[str, AgentClient], Story]]:
    async with served_standin(RasaStandIn()) as rasa_url:
        settings = app_settings(workdir, rasa_url, inbox_login_attempts=1000)
        engine = create_engine(settings.database_url)
        story = await _story(session_factory(engine))
        await engine.dispose()
        for email, role, teams in (("care", "agent", "care"), ("fraud", "agent", "fraud"),
                                   ("boss", "supervisor", ""), ("designer", "designer", "care")):
            store_agent(settings.database_url, f"{email}@example.com", role=role, teams=teams)
        async with served_app(settings) as base_url:
            clients = {}
            for who in ("care", "fraud", "boss", "designer"):
                clients[who] = AgentClient(base_url)
                assert (await clients[who].login(f"{who}@example.com")).status_code == 200
            yield clients, story
            for client in clients.values():
                await client.close()


async def test_the_search_box_finds_customers_cases_and_words_by_the_reading_rule(api) -> None:
    clients, story = api
    care, fraud, boss = clients["care"], clients["fraud"], clients["boss"]
    found = (await care.get("/search", params={"q": "55 1234 5678"})).json()
    assert [c["id"] for c in found["customers"]] == [story.maria] and found["cases"] == []
    words = (await care.get("/search", params={"q": "reembolso tarjeta"})).json()
    assert [hit["case_id"] for hit in words["messages"]] == [story.care_case]  # not fraud's
    assert words["messages"][0]["text"] == "Hola, necesito el reembolso de mi tarjeta"
    assert words["messages"][0]["customer_name"] == "María José Pérez"
    everyone = (await boss.get("/search", params={"q": "Reembolsó TARJETA"})).json()
    assert [hit["case_id"] for hit in everyone["messages"]] == [story.fraud_case, story.care_case]
    by_id = (await fraud.get("/search", params={"q": story.fraud_case[:8]})).json()
    assert [c["id"] for c in by_id["cases"]] == [story.fraud_case] and by_id["cases"][0]["reason"] == "customer_asked"
    assert (await care.get("/search", params={"q": story.fraud_case})).json()["cases"] == []
    assert (await fraud.get("/search", params={"q": "55 1234 5678"})).json() == {"customers": [], "cases": [],
                                                                               "messages": []}


async def test_the_case_list_filters_pages_and_scopes(api) -> None:
    clients, story = api
    care, fraud, boss = clients["care"], clients["fraud"], clients["boss"]
    everything = (await boss.get("/cases")).json()
    assert [c["id"] for c in everything["items"]] == [story.fraud_case, story.care_case]
    assert everything["total"] == 2 and everything["next_cursor"] is None
    assert [c["id"] for c in (await care.get("/cases")).json()["items"]] == [story.care_case]
    listed = (await boss.get("/cases", params=[("status", "resolved"), ("status", "assigned"), ("team", "fraud"),
                                                ("channel", "webchat"), ("reason", "customer_asked"),
                                                ("csat_max", "2"), ("csat_min", "1")])).json()
    assert [c["id"] for c in listed["items"]] == [story.fraud_case] and listed["items"][0]["csat"] == 2
    assert (await boss.get("/cases", params={"opened_from": "2199-01-01T00:00:00Z"})).json()["total"] == 0
    assert (await boss.get("/cases", params={"opened_before": "2100-01-01T00:00:00"})).json()["total"] == 2
    first = (await boss.get("/cases", params={"limit": 1})).json()
    assert first["total"] == 2 and [c["id"] for c in first["items"]] == [story.fraud_case]
    second = (await boss.get("/cases", params={"limit": 1, "cursor": first["next_cursor"]})).json()
    assert [c["id"] for c in second["items"]] == [story.care_case] and second["next_cursor"] is None
    assert (await fraud.get("/cases", params={"team": "care"})).json() == {"items": [], "total": 0,
                                                                           "next_cursor": None}


async def test_refusals(api) -> None:
    clients, _story = api
    care = clients["care"]
    for bad in ({"q": "a"}, {"q": "x" * 101}, {}, {"q": "maria", "limit": 0}):
        assert (await care.get("/search", params=bad)).status_code == 422, bad
    for bad in ({"cursor": "nonsense"}, {"csat_min": 4, "csat_max": 2}, {"csat_min": 6}, {"limit": 201},
                {"team": "x" * 65}, {"agent": "not an id"}, {"opened_from": "9999-01-01T00:00:00Z"}):
        response = await care.get("/cases", params=bad)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][0] == "query", bad
    assert (await clients["designer"].get("/cases")).status_code == 403
    assert (await clients["designer"].get("/search", params={"q": "maria"})).status_code == 403
    anonymous = AgentClient(care.base_url)
    assert (await anonymous.get("/cases")).status_code == 401
    await anonymous.close()
