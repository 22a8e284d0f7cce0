"""Commitments through the inbox API on SQLite and PostgreSQL: who may promise and settle, the checks, the timeline
and audit entries, the reading rule on the lists, the customer's snapshot the assistant reads, and the due alert."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from handoff.core import audit
from handoff.core.customers import resolve_customer
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Agent, AuditEntry, Commitment, Customer, TimelineEvent, utcnow
from tests.service.inbox.support import AgentClient, InboxSocket, create_agent
from tests.service.support.merging import Sessions, case_with_events
from tests.service.support.processes import free_port
from tests.service.support.served_app import app_settings, served_app

REFUND = "Reembolso de $450 a tu tarjeta terminada en 1234"


def later(days: float = 4) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Served:
    base_url: str
    sessions: Sessions
    ids: dict[str, str]
    clients: dict[str, AgentClient]


async def seed(database_url: str, sessions: Sessions) -> dict[str, str]:
    """Holder (care) holds Ana's open case; a teammate, an agent of returns and a supervisor; a visitor of returns."""
    for name, role, team in (("holder", "agent", "care"), ("mate", "agent", "care"), ("other", "agent", "returns"),
                             ("boss", "supervisor", "care")):
        await asyncio.to_thread(create_agent, database_url, f"{name}@example.com", role, team)
    async with sessions() as session, session.begin():
        agents = {a.email.split("@")[0]: a for a in await session.scalars(select(Agent))}
        ana = await resolve_customer(session, "phone", "+525512345678", verified=True, verified_by="whatsapp",
                                     display_name="Ana", language="es")
        earlier = await case_with_events(session, ana, "whatsapp", "resolved", texts=("hola",), age_hours=30)
        ana_open = await case_with_events(session, ana, "whatsapp", "assigned", team="care",
                                          assignee=agents["holder"], texts=("¿y mi reembolso?",), age_hours=1)
        visitor = await resolve_customer(session, "webchat", "visitor-1")
        web_open = await case_with_events(session, visitor, "webchat", "queued", team="returns", texts=("hi",))
    return {"ana": ana.id, "ana_open": ana_open.id, "earlier": earlier.id, "visitor": visitor.id,
            "web_open": web_open.id, **{name: agent.id for name, agent in agents.items()}}


@pytest.fixture
async def served(tmp_path: Path, database_url: str) -> AsyncIterator[Served]:
    settings = app_settings(tmp_path, f"http://127.0.0.1:{free_port()}", database_url=database_url,
                            commitments_due_check_seconds=0.2)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    ids = await seed(database_url, sessions)
    async with served_app(settings) as url:
        clients = {}
        for name in ("holder", "mate", "other", "boss"):
            clients[name] = AgentClient(url)
            assert (await clients[name].login(f"{name}@example.com")).status_code == 200
        yield Served(url, sessions, ids, clients)
        for client in clients.values():
            await client.close()
    await engine.dispose()


async def test_the_holder_records_a_promise_on_the_timeline_audit_and_the_customers_snapshot(served: Served) -> None:
    holder, case_id = served.clients["holder"], served.ids["ana_open"]
    due = later()
    made = await holder.post(f"/cases/{case_id}/commitments", {"text": f"  {REFUND}  ", "due_at": due})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["text"] == REFUND and body["state"] == "open" and body["overdue"] is False
    assert body["due_at"].startswith(due[:19]) and body["agent_id"] == served.ids["holder"]
    assert body["customer_id"] == served.ids["ana"] and body["kept_at"] is None and body["alerted_at"] is None
    async with served.sessions() as session:
        event = (await session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "commitment"))).one()
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "commitment"))).one()
        customer = await session.get_one(Customer, served.ids["ana"])
        assert (await audit.verify(session)).ok
    assert event.case_id == case_id and event.text == REFUND and event.actor == f"agent:{served.ids['holder']}"
    assert event.payload["commitment_id"] == body["id"] and event.direction == "internal"
    assert entry.case_id == case_id and entry.detail["commitment_id"] == body["id"]
    assert customer.open_commitments == [{"id": body["id"], "text": REFUND, "due_at": body["due_at"],
                                          "case_id": case_id}]
    view = (await holder.get(f"/cases/{case_id}")).json()
    assert [e["kind"] for e in view["events"]][-1] == "commitment"


async def test_only_the_holder_or_a_supervisor_may_promise_and_the_checks_refuse(served: Served) -> None:
    path = f"/cases/{served.ids['ana_open']}/commitments"
    good = {"text": REFUND, "due_at": later()}
    assert (await served.clients["mate"].post(path, good)).status_code == 403  # same team, not holding it
    assert (await served.clients["other"].post(path, good)).status_code == 403  # another team's case
    assert (await served.clients["holder"].post(path, good, csrf=False)).status_code == 403
    assert (await served.clients["holder"].post("/cases/nosuchcase/commitments", good)).status_code == 404
    for refused in ({"text": "", "due_at": later()}, {"text": "   ", "due_at": later()},
                    {"text": "x" * 501, "due_at": later()}, {"text": REFUND, "due_at": later(-1)},
                    {"text": REFUND, "due_at": later()[:-1]}, {"text": REFUND}):
        answer = await served.clients["holder"].post(path, refused)
        assert answer.status_code == 422, (refused, answer.text)
    assert (await served.clients["boss"].post(f"/cases/{served.ids['earlier']}/commitments",
                                              good)).status_code == 409  # a resolved case
    boss = await served.clients["boss"].post(path, {"text": "<b>Te llamo</b> mañana", "due_at": later(1)})
    assert boss.status_code == 201 and boss.json()["text"] == "<b>Te llamo</b> mañana"  # stored as typed: text
    async with served.sessions() as session:
        assert len((await session.scalars(select(Commitment))).all()) == 1


async def test_lists_follow_the_reading_rule_and_each_state(served: Served) -> None:
    holder, boss, other = served.clients["holder"], served.clients["boss"], served.clients["other"]
    soon = (await holder.post(f"/cases/{served.ids['ana_open']}/commitments",
                              {"text": "Te llamo el lunes", "due_at": later(1)})).json()
    refund = (await holder.post(f"/cases/{served.ids['ana_open']}/commitments",
                                {"text": REFUND, "due_at": later(5)})).json()
    on_web = (await boss.post(f"/cases/{served.ids['web_open']}/commitments",
                              {"text": "Cambio de talla", "due_at": later(2)})).json()
    async with served.sessions() as session, session.begin():  # the call was promised for an hour ago
        await session.execute(update(Commitment).where(Commitment.id == soon["id"])
                              .values(due_at=utcnow() - timedelta(hours=1), alerted_at=utcnow()))

    async def ids(client: AgentClient, query: str) -> list[int]:
        answer = await client.get(f"/commitments{query}")
        assert answer.status_code == 200, answer.text
        return [row["id"] for row in answer.json()]

    assert await ids(holder, "") == await ids(holder, "?status=open") == [soon["id"], refund["id"]]
    assert await ids(boss, "?status=open") == [soon["id"], on_web["id"], refund["id"]]  # soonest due first
    assert await ids(other, "?status=open") == [on_web["id"]]  # returns reads only its own team's case
    assert await ids(holder, "?status=overdue") == await ids(boss, "?status=overdue") == [soon["id"]]
    assert await ids(other, "?status=overdue") == []
    assert await ids(boss, f"?status=open&customer_id={served.ids['ana']}") == [soon["id"], refund["id"]]
    panel = (await boss.get("/supervisor")).json()  # where supervisors look
    assert [(row["id"], row["state"]) for row in panel["overdue_commitments"]] == [(soon["id"], "overdue")]
    overdue = (await holder.get("/commitments?status=overdue")).json()[0]
    assert overdue["state"] == "overdue" and overdue["overdue"] is True
    assert (await holder.get("/commitments?status=late")).status_code == 422

    kept = await holder.post(f"/commitments/{refund['id']}/kept")
    assert kept.status_code == 200 and kept.json()["state"] == "kept" and kept.json()["kept_on_time"] is True
    assert (await holder.post(f"/commitments/{refund['id']}/broken")).status_code == 409  # settled once
    assert (await other.post(f"/commitments/{soon['id']}/broken")).status_code == 403  # not theirs to read
    assert (await served.clients["mate"].post(f"/commitments/{soon['id']}/broken")).status_code == 403
    broken = await boss.post(f"/commitments/{soon['id']}/broken")
    assert broken.status_code == 200 and broken.json()["state"] == "broken" and not broken.json()["kept_on_time"]
    assert (await boss.post("/commitments/999999/kept")).status_code == 404
    assert await ids(holder, "?status=kept") == [refund["id"]] and await ids(holder, "?status=broken") == [soon["id"]]
    assert await ids(holder, "?status=open") == []
    async with served.sessions() as session:
        customer = await session.get_one(Customer, served.ids["ana"])
        settled = (await session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "commitment")
                                         .order_by(TimelineEvent.id))).all()
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert customer.open_commitments is None  # nothing open: the assistant is told nothing
    assert [e.payload["status"] for e in settled] == ["open", "open", "open", "kept", "broken"]
    assert actions.count("commitment_kept") == 1 and actions.count("commitment_broken") == 1


async def test_a_due_promise_alerts_its_agent_and_team_once(served: Served) -> None:
    holder, other = served.clients["holder"], served.clients["other"]
    made = (await holder.post(f"/cases/{served.ids['ana_open']}/commitments",
                              {"text": REFUND, "due_at": later(1)})).json()
    mate_socket = InboxSocket(served.base_url, served.clients["mate"].cookie_header())
    other_socket = InboxSocket(served.base_url, other.cookie_header())
    await mate_socket.connect()
    await other_socket.connect()
    try:
        async with served.sessions() as session, session.begin():
            await session.execute(update(Commitment).where(Commitment.id == made["id"])
                                  .values(due_at=utcnow() - timedelta(seconds=1)))
        alert = await mate_socket.next_event("commitment_due", timeout=20)  # the holder's team
        assert alert == {"commitment_id": made["id"], "case_id": served.ids["ana_open"], "text": REFUND,
                         "due_at": alert["due_at"], "agent_id": served.ids["holder"]}
        await asyncio.sleep(1.0)  # five more passes: nothing is alerted twice, nothing reaches another team
        seen = [event for event, _ in list(mate_socket.events._queue) if event == "commitment_due"]  # noqa: SLF001
        assert seen == [] and all(e != "commitment_due" for e, _ in list(other_socket.events._queue))  # noqa: SLF001
    finally:
        await mate_socket.close()
        await other_socket.close()
    async with served.sessions() as session:
        commitment = await session.get_one(Commitment, made["id"])
    assert commitment.alerted_at is not None and commitment.status == "open"
