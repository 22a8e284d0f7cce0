"""Filling free capacity from the queues, then saying so: used when agents come online or free a slot."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.assignment import drain
from handoff.core.callbacks import UNHEARD_AFTER, release_unheard
from handoff.core.events import Assigned, CaseChanged, EventBus
from handoff.core.rounds import repeat
from handoff.store.models import Case, utcnow


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

    async def release_holds(self) -> list[tuple[str, str]]:
        """Follow-ups whose hold for their busy agent ran out go to their team: the hold is cleared, the team
        drained."""
        now = utcnow()
        async with self.sessions() as session, session.begin():
            teams = set(await session.scalars(
                update(Case).where(Case.status == "queued", Case.held_until.is_not(None), Case.held_until <= now)
                .values(held_for_id=None, held_until=None).returning(Case.team)))
        return await self.drain({team for team in teams if team}) if teams else []

    async def release_unheard_callbacks(self) -> list[str]:
        """Callbacks placed long ago that the provider never reported on go back to their team's list."""
        async with self.sessions() as session, session.begin():
            cases = await release_unheard(session, utcnow() - UNHEARD_AFTER)
        for case_id in cases:
            await self.events.publish(CaseChanged(case_id))
        return cases

    async def release(self) -> None:
        """One round: ended holds, then unheard callbacks."""
        await self.release_holds()
        await self.release_unheard_callbacks()

    async def run(self, every_seconds: float = 15.0) -> None:
        """Releases ended holds and unheard callbacks forever; a failed round is retried the next one."""
        await repeat(self.release, every_seconds, "queue_release_failed")
