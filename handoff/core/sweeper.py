"""The abandonment sweeper: cases waiting for people whose customer went silent long ago end as abandoned."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.assignment import abandon_stale
from handoff.core.events import CaseChanged, EventBus
from handoff.core.rounds import repeat
from handoff.store.models import utcnow


class AbandonSweeper:
    """A background loop started with the app; `sweep` is one round."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus,
                 abandon_after: timedelta) -> None:
        self.sessions = sessions
        self.events = events
        self.abandon_after = abandon_after

    async def sweep(self, abandon_after: timedelta | None = None) -> int:
        """Ends the stale cases in one transaction, then publishes each change; returns how many ended."""
        silent_since = utcnow() - (self.abandon_after if abandon_after is None else abandon_after)
        async with self.sessions() as session, session.begin():
            ended = await abandon_stale(session, silent_since)
        for case_id in ended:
            await self.events.publish(CaseChanged(case_id))
        return len(ended)

    async def run(self, every_seconds: float = 60.0) -> None:
        """Sweeps forever; a failed round is retried the next one, never fatal."""
        await repeat(self.sweep, every_seconds, "abandon_sweep_failed")
