"""Merging through the inbox API: roles and the reading rule, undo to the exact state, suggestions, refusals."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from handoff.core.customers import resolve_customer
from handoff.core.merge_evidence import weigh_told
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, Customer
from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.merging import Sessions, case_with_events, chains_ok, snapshot, two_customers
from tests.service.support.processes import free_port
from tests.service.support.served_app import app_settings, served_app


@dataclass
class Served:
    base_url: str
    sessions: Sessions
    ids: dict[str, str]
    database_url: str

    async def agent(self, role: str, teams: str, name: str) -> AgentClient:
        email = f"{name}@example.com"
        await asyncio.to_thread(create_agent, self.database_url, email, role, teams)
        client = AgentClient(self.base_url)
        assert (await client.login(email)).status_code == 200
        return client


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    settings = app_settings(tmp_path, f"http://127.0.0.1:{free_port()}")
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    ids = await two_customers(sessions)
    async with served_app(settings) as url:
        yield Served(url, sessions, ids, settings.database_url)
    await engine.dispose()


async def test_an_agent_who_may_not_read_a_case_of_either_customer_cannot_merge(served: Served) -> None:
    care = await served.agent("agent", "care", "carla")  # the visitor's open case is queued for returns
    before = await snapshot(served.sessions)
    refused = await care.post(f"/customers/{served.ids['ana']}/merge", {"other_id": served.ids["visitor"]})
    assert refused.status_code == 403 and refused.json() == {"detail": "you may not read every case this touches"}
    designer = await served.agent("designer", "", "dana")
    assert (await designer.post(f"/customers/{served.ids['ana']}/merge",
                                {"other_id": served.ids["visitor"]})).status_code == 403
    assert await snapshot(served.sessions) == before


async def test_a_supervisor_merges_and_undoes_to_the_exact_state_before(served: Served) -> None:
    boss = await served.agent("supervisor", "care", "sofia")
    before = await snapshot(served.sessions)
    merged = await boss.post(f"/customers/{served.ids['ana']}/merge", {"other_id": served.ids["visitor"]})
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert set(body["case_ids"]) == {served.ids["ana_open"], served.ids["web_open"]} and body["undone"] is False
    view = (await boss.get(f"/cases/{served.ids['ana_open']}")).json()
    assert {e["case_id"] for e in view["events"]} >= {served.ids["web_open"], served.ids["ana_open"]}
    notes = [e for e in view["events"] if e["kind"] == "merge"]
    assert notes and all(e["payload"]["merge_id"] == body["merge_id"] for e in notes)
    assert {i["value"] for i in view["customer"]["identities"]} >= {"visitor", "ana@example.mx"}
    await chains_ok(served.sessions)
    undone = await boss.post(f"/merges/{body['merge_id']}/undo")
    assert undone.status_code == 200 and undone.json()["undone"] is True
    assert await snapshot(served.sessions) == before
    await chains_ok(served.sessions)
    again = await boss.post(f"/merges/{body['merge_id']}/undo")
    assert again.status_code == 409 and again.json() == {"detail": "this merge was already undone"}


async def test_two_open_cases_of_one_customer_merge_by_one_action(served: Served) -> None:
    async with served.sessions() as session, session.begin():
        ana = await session.get_one(Customer, served.ids["ana"])
        second = await case_with_events(session, ana, "webchat", "bot", texts=("otra consulta",))
    maria = AgentClient(served.base_url)
    await asyncio.to_thread(create_agent, served.database_url, "mara@example.com", "agent", "care")
    assert (await maria.login("mara@example.com")).status_code == 200
    merged = await maria.post(f"/cases/{served.ids['ana_open']}/merge", {"other_id": second.id})
    assert merged.status_code == 200, merged.text
    async with served.sessions() as session:
        absorbed = await session.get_one(Case, second.id)
        assert (absorbed.status, absorbed.merged_into_case_id) == ("merged", served.ids["ana_open"])
    closed = await maria.post(f"/cases/{served.ids['ana_open']}/merge", {"other_id": second.id})
    assert closed.status_code == 409
    assert (await maria.post(f"/merges/{merged.json()['merge_id']}/undo")).status_code == 200


async def test_refusals_are_404_409_and_422(served: Served) -> None:
    boss = await served.agent("admin", "care", "ada")
    ana = served.ids["ana"]
    assert (await boss.post(f"/customers/{ana}/merge", {"other_id": "nobody"})).status_code == 404
    assert (await boss.post("/merges/nomerge/undo")).status_code == 404
    assert (await boss.post("/cases/nocase/merge", {"other_id": served.ids["ana_open"]})).status_code == 404
    assert (await boss.post("/suggestions/999/dismiss")).status_code == 404
    itself = await boss.post(f"/customers/{ana}/merge", {"other_id": ana})
    assert itself.status_code == 422 and itself.json()["detail"][0]["loc"] == ["body", "other_id"]
    assert (await boss.post(f"/customers/{ana}/merge", {})).status_code == 422
    assert (await boss.post(f"/customers/{ana}/merge", {"other_id": "../x"})).status_code == 422
    other_customer = await boss.post(f"/cases/{served.ids['ana_open']}/merge", {"other_id": served.ids["web_open"]})
    assert other_customer.status_code == 409
    first = await boss.post(f"/customers/{ana}/merge", {"other_id": served.ids["visitor"]})
    assert first.status_code == 200
    twice = await boss.post(f"/customers/{ana}/merge", {"other_id": served.ids["visitor"]})
    assert twice.status_code == 409
    async with httpx.AsyncClient(base_url=served.base_url) as http:
        schema = (await http.get("/openapi.json")).json()
    for path in ("/inbox/api/customers/{customer_id}/merge", "/inbox/api/cases/{case_id}/merge",
                 "/inbox/api/merges/{merge_id}/undo", "/inbox/api/suggestions/{suggestion_id}/dismiss"):
        assert {"200", "401", "403", "404", "409", "422"} <= set(schema["paths"][path]["post"]["responses"]), path


async def test_a_told_phone_is_a_suggestion_in_the_customer_panel_until_merged_or_dismissed(served: Served) -> None:
    async with served.sessions() as session, session.begin():
        visitor = await session.get_one(Customer, served.ids["visitor"])
        await weigh_told(session, visitor, {"phone": "+525512345678"})
        stranger = await resolve_customer(session, "webchat", "visitor-7", display_name="<b>Ana</b>")
        await weigh_told(session, stranger, {"phone": "+525512345678"})
    boss = await served.agent("supervisor", "care", "sara")
    panel = (await boss.get(f"/cases/{served.ids['ana_open']}")).json()["customer"]["suggestions"]
    assert [(s["other_customer_id"], s["evidence_kind"], s["evidence_value"]) for s in panel] == [
        (served.ids["visitor"], "told_phone", "+525512345678"), (stranger.id, "told_phone", "+525512345678")]
    assert panel[1]["other_name"] == "<b>Ana</b>"  # text, rendered as text by the app
    dismissed = await boss.post(f"/suggestions/{panel[1]['id']}/dismiss")
    assert dismissed.status_code == 200
    merged = await boss.post(f"/customers/{served.ids['ana']}/merge", {"other_id": panel[0]["other_customer_id"]})
    assert merged.status_code == 200
    assert (await boss.get(f"/cases/{served.ids['ana_open']}")).json()["customer"]["suggestions"] == []
    async with served.sessions() as session:
        assert (await session.scalar(select(Customer.merged_into_id).where(Customer.id == stranger.id))) is None
