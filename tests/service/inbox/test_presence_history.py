"""Every presence change is kept (occupancy's online time): from the inbox's presence switch and from logging out."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from handoff.core.agents import NewAgent, create_agent
from handoff.core.events import EventBus
from handoff.core.operations import Operations
from handoff.core.queues import Queues
from handoff.inbox.auth import Auth, Principal
from handoff.inbox.people import People
from handoff.store.models import AgentSession, PresenceChange, utcnow

pytestmark = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


async def test_online_away_and_logout_are_kept_in_order_a_repeat_is_not(sessions) -> None:
    async with sessions() as session, session.begin():
        agent = await create_agent(session, NewAgent("ana@example.com", "Ana", "agent", ("care",), "x" * 12),
                                   ["care"])
        row = AgentSession(id="s" * 64, agent_id=agent.id, csrf_token="c", created_at=utcnow(), expires_at=utcnow())
        session.add(row)
    principal = Principal(agent, row.id, row.csrf_token)
    people = People(sessions, Operations(teams={"care": {}}), Queues(sessions, EventBus()))
    for presence in ("online", "online", "away", "online"):
        assert (await people.presence(principal, presence))["presence"] == presence
    auth = Auth(sessions, b"k" * 32, ttl_hours=1, secure_cookie=False, throttle=None)  # type: ignore[arg-type]
    await auth.logout(principal)
    async with sessions() as session:
        changes = list(await session.scalars(select(PresenceChange).order_by(PresenceChange.id)))
    assert [(change.agent_id, change.presence) for change in changes] == [
        (agent.id, "online"), (agent.id, "away"), (agent.id, "online"), (agent.id, "offline")]
    moments = [change.changed_at for change in changes]
    assert moments == sorted(moments)
