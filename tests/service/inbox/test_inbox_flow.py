"""The inbox against a running service (assistant unreachable, so every message is handed to people)."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from handoff.core import audit
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, Handoff
from tests.service.inbox.support import AgentClient, InboxSocket, create_agent
from tests.service.support.webchat_client import Visitor


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture
async def online_agent():
    """Logs agents in and online; logs them out afterwards so the shared service's routing starts clean."""
    made: list[tuple[AgentClient, InboxSocket]] = []

    async def make(service, teams: str = "care", role: str = "agent") -> tuple[AgentClient, InboxSocket]:
        email = unique(role)
        create_agent(service.database_url, email, role=role, teams=teams)
        agent = AgentClient(service.base_url)
        assert (await agent.login(email)).status_code == 200
        socket = InboxSocket(service.base_url, agent.cookie_header())
        await socket.connect()
        assert (await agent.post("/presence", {"presence": "online"})).status_code == 200
        made.append((agent, socket))
        return agent, socket

    yield make
    for agent, socket in made:
        await agent.post("/logout")
        await socket.close()
        await agent.close()


async def test_a_handed_off_customer_reaches_an_online_agent_live_and_gets_the_reply(inbox_service,
                                                                                   online_agent) -> None:
    agent, socket = await online_agent(inbox_service)
    visitor = Visitor(inbox_service.base_url)
    await visitor.connect()
    told = await visitor.say("necesito ayuda con mi pedido", metadata={"language": "es"})
    assert any("persona" in (reply.get("text") or "") for reply in told), told

    update = await socket.next_event("case_updated")
    case_id = update["id"]
    assert update["status"] == "assigned" and update["assignee_id"] == agent.me["id"]
    assert update["reason"] == "bot_unavailable" and update["channel"] == "webchat"
    assert (await socket.call("join_case", {"case_id": case_id})) == {"ok": True}

    await visitor.client.emit("user_uttered", {"message": "<img src=x onerror=alert(1)>",
                                               "session_id": visitor.session_id})
    live = await socket.next_event("case_event")
    assert live["case_id"] == case_id and live["event"]["text"] == "<img src=x onerror=alert(1)>"
    assert "address" not in live["event"]["payload"]

    view = (await agent.get(f"/cases/{case_id}")).json()
    texts = [event["text"] for event in view["events"] if event["kind"] == "message"]
    assert texts[0] == "necesito ayuda con mi pedido" and "<img src=x onerror=alert(1)>" in texts
    assert view["handoff"]["reason"] == "bot_unavailable" and view["channels"] == ["webchat"]
    assert view["customer"]["identities"] == [{"kind": "webchat", "value": "visitor", "verified": False}]

    assert (await agent.post(f"/cases/{case_id}/reply", {"text": "Hola, soy yo. Te ayudo."})).status_code == 200
    joined = await visitor.next_event("agent_joined")
    assert joined["name"] == agent.me["name"]
    reply = await visitor.next_event("bot_uttered")
    assert reply == {"text": "Hola, soy yo. Te ayudo.", "actor": "agent", "agent_name": agent.me["name"]}

    assert (await agent.post(f"/cases/{case_id}/note", {"text": "cliente frecuente"})).status_code == 200
    resolved = await agent.post(f"/cases/{case_id}/resolve", {"disposition": "information_given"})
    assert resolved.status_code == 200, resolved.text
    question = await visitor.next_event("bot_uttered")
    assert len(question["quick_replies"]) == 3 and "calificarías" in question["text"]
    await visitor.client.emit("user_uttered", {"message": question["quick_replies"][0]["payload"],
                                               "title": question["quick_replies"][0]["title"],
                                               "session_id": visitor.session_id})
    thanks = await visitor.next_event("bot_uttered")
    assert "Gracias" in thanks["text"]

    engine = create_engine(inbox_service.database_url)
    async with session_factory(engine)() as session:
        case = await session.get(Case, case_id)
        handoffs = list(await session.scalars(select(Handoff).where(Handoff.case_id == case_id)))
        actions = [entry.action for entry in await audit.entries(session, case_id)]
        check = await audit.verify(session)
    await engine.dispose()
    assert case.status == "resolved" and case.csat == 5 and case.disposition == "information_given"
    assert [(h.direction, h.outcome) for h in handoffs] == [("to_human", "resolved")]
    assert handoffs[0].accepted_at is not None and handoffs[0].agent_id == agent.me["id"]
    assert actions == ["view", "accept", "reply", "note", "resolve"] and check.ok
    await visitor.close()


async def test_queue_position_then_assignment_when_an_agent_comes_online(inbox_service, online_agent) -> None:
    visitor = Visitor(inbox_service.base_url)
    await visitor.connect()
    told = await visitor.say("hola, alguien?", metadata={"language": "es"})
    assert any("fila" in (reply.get("text") or "") for reply in told), told
    agent, _socket = await online_agent(inbox_service)
    mine = (await agent.get("/mine")).json()
    assert len(mine) >= 1 and all(item["assignee_id"] == agent.me["id"] for item in mine)
    await visitor.close()
