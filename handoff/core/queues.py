"""Filling free capacity from the queues, then saying so: used when agents come online or free a slot."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.assignment import drain
from handoff.core.events import Assigned, CaseChanged, EventBus


class Queues:
    """One per process; shared by the inbox's actions and presence changes."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus) -> None:
        self.sessions = sessions
        self.events = events

    async def drain(self, teams: set[str] | None = None) -> list[tuple[str, str]]:
        """Assigns queued cases to online agents with room, in queue order, then publishes each assignment."""
        async with self.sessions() as session, session.begin():
            assigned = await drain(session, teams)
        for case_id, agent_id in assigned:
            await self.events.publish(Assigned(case_id, agent_id), CaseChanged(case_id))
        return assigned
