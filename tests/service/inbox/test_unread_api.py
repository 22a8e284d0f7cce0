"""Unread counts and SLA clocks through the inbox API on SQLite and PostgreSQL: opening a case reads it for that
agent only, POST /cases/{id}/read follows the reading rule and the CSRF check, the lists carry the SLA clock."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from handoff.core.customers import resolve_customer
from handoff.core.timeline import append_event
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Agent, Case, utcnow
from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.merging import Sessions, case_with_events
from tests.service.support.processes import free_port
from tests.service.support.served_app import app_settings, served_app


@dataclass
class Served:
    sessions: Sessions
    ids: dict[str, str]
    clients: dict[str, AgentClient]


async def seed(database_url: str, sessions: Sessions) -> dict[str, str]:
    """Holder (care) holds Ana's WhatsApp case, handed off 100 s ago; a returns agent; a supervisor; a web visitor
    queued for care 110 s ago (webchat's sla.answer in operations.yml is 120 s: a warning)."""
    for name, role, team in (("holder", "agent", "care"), ("other", "agent", "returns"),
                             ("boss", "supervisor", "care")):
        await asyncio.to_thread(create_agent, database_url, f"{name}@example.com", role, team)
    now = utcnow()
    async with sessions() as session, session.begin():
        agents = {a.email.split("@")[0]: a for a in await session.scalars(select(Agent))}
        ana = await resolve_customer(session, "phone", "+525512345678", verified=True, display_name="Ana")
        mine = await case_with_events(session, ana, "whatsapp", "assigned", team="care", assignee=agents["holder"],
                                      texts=("hola", "¿y mi reembolso?"))
        visitor = await resolve_customer(session, "webchat", "visitor-unread")
        queued = await case_with_events(session, visitor, "webchat", "queued", team="care", texts=("¿hay alguien?",))
        mine.queued_at, mine.answer_due_at = now - timedelta(seconds=100), now + timedelta(seconds=800)
        queued.queued_at, queued.answer_due_at = now - timedelta(seconds=110), now + timedelta(seconds=10)
    return {"mine": mine.id, "queued": queued.id, **{name: agent.id for name, agent in agents.items()}}


@pytest.fixture
async def served(tmp_path: Path, database_url: str) -> AsyncIterator[Served]:
    settings = app_settings(tmp_path, f"http://127.0.0.1:{free_port()}", database_url=database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    ids = await seed(database_url, sessions)
    async with served_app(settings) as url:
        clients = {}
        for name in ("holder", "other", "boss"):
            clients[name] = AgentClient(url)
            assert (await clients[name].login(f"{name}@example.com")).status_code == 200
        yield Served(sessions, ids, clients)
        for client in clients.values():
            await client.close()
    await engine.dispose()


async def rows(client: AgentClient, path: str) -> dict[str, dict]:
    answer = await client.get(path)
    assert answer.status_code == 200, answer.text
    return {row["id"]: row for row in answer.json()}


async def test_opening_a_case_reads_it_for_that_agent_and_the_lists_carry_the_sla_clock(served: Served) -> None:
    holder, boss, other = served.clients["holder"], served.clients["boss"], served.clients["other"]
    mine, queued = served.ids["mine"], served.ids["queued"]
    listed = (await rows(holder, "/mine"))[mine]
    assert (listed["unread"], listed["sla_state"], listed["sla_target_seconds"]) == (2, "ok", 900)
    waiting = (await rows(boss, "/queue"))[queued]
    assert (waiting["unread"], waiting["sla_state"], waiting["sla_target_seconds"]) == (1, "warning", 120)

    assert (await holder.get(f"/cases/{mine}")).status_code == 200  # opening it
    assert (await rows(holder, "/mine"))[mine]["unread"] == 0
    async with served.sessions() as session, session.begin():
        case = await session.get(Case, mine)
        assert case is not None
        await append_event(session, case, channel="whatsapp", direction="in", actor="customer", kind="message",
                           text="¿sigues ahí?")
    assert (await rows(holder, "/mine"))[mine]["unread"] == 1
    assert (await holder.post(f"/cases/{mine}/read")).json() == {"ok": True}
    assert (await rows(holder, "/mine"))[mine]["unread"] == 0
    assert (await rows(boss, "/queue"))[queued]["unread"] == 1  # the holder's reading is not the supervisor's

    assert (await other.post(f"/cases/{mine}/read")).status_code == 403  # another team's case
    assert (await holder.post(f"/cases/{'0' * 32}/read")).status_code == 404
    assert (await boss.post(f"/cases/{queued}/read", csrf=False)).status_code == 403  # no CSRF header
    assert (await rows(boss, "/queue"))[queued]["unread"] == 1
    assert (await boss.post(f"/cases/{queued}/read")).status_code == 200
    assert (await rows(boss, "/queue"))[queued]["unread"] == 0

    assert (await holder.post(f"/cases/{mine}/reply", {"text": "Hola Ana, te ayudo"})).status_code == 200
    assert (await rows(holder, "/mine"))[mine]["sla_state"] is None  # answered: the clock stopped
