"""The inbox's language kept on the agent's profile: set with PUT /inbox/api/me/locale, answered by /me, stored on
SQLite and PostgreSQL; only the catalogues' languages, only with the CSRF token."""
from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.agents import NewAgent, create_agent, public
from handoff.store.models import Agent
from tests.service.inbox.support import AgentClient
from tests.service.inbox.support import create_agent as make_agent


async def test_an_agent_keeps_their_language_on_the_profile(inbox_service) -> None:
    address = f"lena-{uuid.uuid4().hex[:8]}@example.com"
    make_agent(inbox_service.database_url, address, role="designer", teams="")  # every role may choose
    agent = AgentClient(inbox_service.base_url)
    try:
        assert (await agent.login(address)).status_code == 200
        assert agent.me["locale"] is None  # nobody chose: the browser's language
        headers = {"X-CSRF-Token": agent.csrf or ""}
        chosen = await agent.http.put("/inbox/api/me/locale", json={"locale": "pt"}, headers=headers)
        assert chosen.status_code == 200 and chosen.json()["locale"] == "pt"
        assert (await agent.get("/me")).json()["agent"]["locale"] == "pt"
        for bad in ("fr", "pt-BR", "", 3):
            refused = await agent.http.put("/inbox/api/me/locale", json={"locale": bad}, headers=headers)
            assert refused.status_code == 422, bad
        unsigned = await agent.http.put("/inbox/api/me/locale", json={"locale": "es"})
        assert unsigned.status_code == 403
        cleared = await agent.http.put("/inbox/api/me/locale", json={"locale": None}, headers=headers)
        assert cleared.json()["locale"] is None
        assert (await agent.get("/me")).json()["agent"]["locale"] is None
    finally:
        await agent.close()


async def test_the_locale_column_is_stored_on_each_database(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        agent = await create_agent(session, NewAgent("ines@example.com", "Inés", "agent", ("care",), "x" * 12),
                                   ["care"])
        assert public(agent)["locale"] is None
        agent.locale = "es"
    async with sessions() as session:
        stored = await session.get_one(Agent, agent.id)
        assert public(stored)["locale"] == "es"
