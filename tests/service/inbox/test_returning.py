"""A returning customer through the whole app (SQLite and PostgreSQL): the agent who resolved their last case
gets the recontact and reads on it "returning customer", the previous case (when, its disposition, its agent, its
open commitment) and the routing decision on the timeline with the agent's name."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case
from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.polling import until
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import Served, served_with_assistant
from tests.service.support.webchat_client import Visitor


def hands_off(message: str) -> list[dict[str, Any]]:
    """The assistant hands every message to people."""
    return [{"text": "Te paso con una persona"}, {"custom": {"handoff": {"reason": "explicit_request"}}}]


@pytest.fixture
async def served(tmp_path: Any, database_url: str) -> AsyncIterator[Served]:
    async with served_with_assistant(tmp_path, RasaStandIn(reply=hands_off), database_url=database_url,
                                     inbox_login_attempts=1000) as running:
        yield running


async def online(served: Served, email: str, name: str) -> AgentClient:
    await asyncio.to_thread(create_agent, served.database_url, email, "agent", "care", name)
    agent = AgentClient(served.base_url)
    assert (await agent.login(email)).status_code == 200
    assert (await agent.post("/presence", {"presence": "online"})).status_code == 200
    return agent


async def open_case(served: Served, session_id: str) -> str:
    """The customer's open case, once people have it."""
    engine = create_engine(served.database_url)
    try:
        async def found() -> str | None:
            async with session_factory(engine)() as session:
                return await session.scalar(select(Case.id).where(Case.status.in_(("queued", "assigned")))
                                            .order_by(Case.created_at.desc()).limit(1))
        return await until(found, f"an open case for {session_id}")
    finally:
        await engine.dispose()


async def test_the_agent_sees_a_returning_customer_with_the_previous_case_and_why_it_came_to_them(served) -> None:
    ana = await online(served, "ana-returning@example.com", "Ana")
    visitor = Visitor(served.base_url)
    session_id = await visitor.connect()
    await visitor.say("quiero devolver mi pedido", metadata={"language": "es"})
    first = await open_case(served, session_id)
    due = (datetime.now(timezone.utc) + timedelta(days=5)).isoformat()
    promised = await ana.post(f"/cases/{first}/commitments", {"text": "Reembolso en 5 días hábiles", "due_at": due})
    assert promised.status_code in (200, 201), promised.text
    resolved = await ana.post(f"/cases/{first}/resolve", {"disposition": "refund_issued"})
    assert resolved.status_code == 200, resolved.text
    bea = await online(served, "bea-returning@example.com", "Bea")  # free, but the follow-up is Ana's

    await visitor.say("sigo sin mi reembolso", metadata={"language": "es"})
    again = await open_case(served, session_id)
    assert again != first
    view = (await ana.get(f"/cases/{again}")).json()
    assert view["case"]["returning"] is True and view["case"]["assignee_id"] == ana.me["id"] != bea.me["id"]
    previous = view["returning"]["previous_case"]
    assert (previous["id"], previous["disposition"], previous["agent_name"]) == (first, "refund_issued", "Ana")
    assert previous["resolved_at"] and view["returning"]["routing_reason"] == "follow_up_agent"
    promise = view["returning"]["commitments"]
    assert [(c["text"], c["overdue"]) for c in promise] == [("Reembolso en 5 días hábiles", False)]
    assert (view["handoff"]["decision"], view["handoff"]["decision_reason"]) == ("assign", "follow_up_agent")
    routing = [e for e in view["events"] if e["kind"] == "routing" and e["case_id"] == again]
    assert routing and routing[-1]["payload"]["decision"] == "assign"
    assert routing[-1]["payload"]["agent_name"] == "Ana" and "agent_id" in routing[-1]["payload"]
    listed = (await ana.get("/mine")).json()
    assert [row["returning"] for row in listed if row["id"] == again] == [True]

    first_view = (await ana.get(f"/cases/{first}")).json()
    assert first_view["returning"] is None and first_view["case"]["returning"] is False
    await visitor.close()
    for agent in (ana, bea):
        await agent.close()
