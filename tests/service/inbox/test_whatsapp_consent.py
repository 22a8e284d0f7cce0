"""An agent marks and clears a customer's WhatsApp opt-out from a case: a timeline event and an audit entry each
time it changes, shown in the case view, refused to roles that do not work cases (the whole app, served)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditEntry, Customer
from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.merging import two_customers
from tests.service.support.processes import free_port
from tests.service.support.served_app import app_settings, served_app


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, str, dict[str, str]]]:
    settings = app_settings(tmp_path, f"http://127.0.0.1:{free_port()}")
    engine = create_engine(settings.database_url)
    ids = await two_customers(session_factory(engine))
    await engine.dispose()
    async with served_app(settings) as url:
        yield url, settings.database_url, ids


async def client(url: str, database_url: str, name: str, role: str, teams: str) -> AgentClient:
    await asyncio.to_thread(create_agent, database_url, f"{name}@example.com", role, teams)
    agent = AgentClient(url)
    assert (await agent.login(f"{name}@example.com")).status_code == 200
    return agent


async def test_an_agent_marks_and_clears_the_opt_out_once_each(served: tuple[str, str, dict[str, str]]) -> None:
    url, database_url, ids = served
    boss = await client(url, database_url, "sofia", "supervisor", "care")
    case = f"/cases/{ids['ana_open']}"
    assert (await boss.get(case)).json()["customer"]["whatsapp_opted_out"] is False

    marked = await boss.post(f"{case}/whatsapp-opt-out", {"opted_out": True})
    assert marked.status_code == 200, marked.text
    [event_id] = marked.json()["event_ids"]
    view = (await boss.get(case)).json()
    assert view["customer"]["whatsapp_opted_out"] is True
    [consent] = [e for e in view["events"] if e["kind"] == "consent"]
    assert consent["id"] == event_id and consent["actor"].startswith("agent:")
    again = await boss.post(f"{case}/whatsapp-opt-out", {"opted_out": True})
    assert again.status_code == 200 and again.json()["event_ids"] == []  # already out: nothing written

    cleared = await boss.post(f"{case}/whatsapp-opt-out", {"opted_out": False})
    assert cleared.status_code == 200 and len(cleared.json()["event_ids"]) == 1
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        assert (await session.get_one(Customer, ids["ana"])).whatsapp_opted_out_at is None
        actions = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("whatsapp_%"))
                                             .order_by(AuditEntry.id)))
    await engine.dispose()
    assert actions == ["whatsapp_opt_out", "whatsapp_opt_in"]
    await boss.close()


async def test_roles_that_do_not_work_cases_are_refused(served: tuple[str, str, dict[str, str]]) -> None:
    url, database_url, ids = served
    designer = await client(url, database_url, "dana", "designer", "")
    refused = await designer.post(f"/cases/{ids['ana_open']}/whatsapp-opt-out", {"opted_out": True})
    assert refused.status_code == 403
    other_team = await client(url, database_url, "luisa", "agent", "returns")
    assert (await other_team.post(f"/cases/{ids['ana_open']}/whatsapp-opt-out",
                                  {"opted_out": True})).status_code == 403
    await designer.close()
    await other_team.close()
