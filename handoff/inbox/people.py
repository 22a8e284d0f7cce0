"""Presence and accounts from the inbox: going online fills free capacity; admins create agents."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.agents import LOCALES, AgentError, NewAgent, create_agent, public, set_presence
from handoff.core.operations import Operations
from handoff.core.permissions import can
from handoff.core.queues import Queues
from handoff.inbox.actions import InboxError
from handoff.inbox.auth import Principal
from handoff.inbox.live import LiveInbox
from handoff.store.models import Agent


class People:
    """The inbox's people service; routes stay thin and call it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], operations: Operations, queues: Queues,
                 live: LiveInbox | None = None) -> None:
        self.sessions = sessions
        self.operations = operations
        self.queues = queues
        self.live = live  # None without a Socket.IO server (tests of the services alone)

    async def presence(self, principal: Principal, presence: object) -> dict[str, object]:
        """Online agents get cases from their queues at once; away and offline get none."""
        if not can(principal.agent.role, "inbox"):
            raise InboxError(403, "this role has no inbox")
        async with self.sessions() as session, session.begin():
            agent = await session.get_one(Agent, principal.agent.id, with_for_update=True)
            try:
                await set_presence(session, agent, str(presence))
            except AgentError as exc:
                raise InboxError(400, str(exc)) from exc
            await audit.record(session, principal.actor, "presence", presence=str(presence))
            shown = public(agent)
        if presence == "online":
            await self.queues.drain(set(agent.teams or []))
        if self.live is not None:
            await self.live.panel_changed()
        return shown

    async def set_locale(self, principal: Principal, locale: str | None) -> dict[str, object]:
        """The inbox's language kept on the agent's profile, so it follows them to any browser; None: the browser's."""
        if locale is not None and locale not in LOCALES:
            raise InboxError(422, f"locale must be one of {', '.join(LOCALES)}")
        async with self.sessions() as session, session.begin():
            agent = await session.get_one(Agent, principal.agent.id, with_for_update=True)
            agent.locale = locale
            return public(agent)

    async def create(self, principal: Principal, new: NewAgent) -> dict[str, object]:
        if not can(principal.agent.role, "manage_agents"):
            raise InboxError(403, "only admins create agents")
        async with self.sessions() as session, session.begin():
            try:
                agent = await create_agent(session, new, self.operations.teams)
            except AgentError as exc:
                raise InboxError(400, str(exc)) from exc
            await audit.record(session, principal.actor, "create_agent", agent_id=agent.id, role=agent.role,
                               teams=list(agent.teams))
            return public(agent)

    async def list(self, principal: Principal) -> list[dict[str, object]]:
        if not can(principal.agent.role, "supervise"):
            raise InboxError(403, "supervisors and admins only")
        async with self.sessions() as session:
            return [public(agent) for agent in await session.scalars(select(Agent).order_by(Agent.display_name))]
