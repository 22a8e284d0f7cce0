"""The due pass (a background loop like the sweeper) and the snapshot's upkeep after merges: commitments' timers."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.commitments import claim_due, refresh_open
from handoff.core.events import CommitmentDue, EventBus, Merged, MergeUndone, Subscription
from handoff.core.rounds import repeat
from handoff.store.models import Case, Merge, utcnow


class DueCommitments:
    """Claims the promises that came due (each once, across workers) and publishes `CommitmentDue` for each."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus) -> None:
        self.sessions = sessions
        self.events = events

    async def sweep(self) -> int:
        """One round: claim in one transaction, publish after its commit; returns how many came due."""
        async with self.sessions() as session, session.begin():
            claimed = await claim_due(session, utcnow())
        await self.events.publish(*(CommitmentDue(due.case_id, due.commitment_id, due.agent_id, due.team,
                                                  due.assignee_id) for due in claimed))
        return len(claimed)

    async def run(self, every_seconds: float = 30.0) -> None:
        """Forever; a failed round is retried the next one, never fatal."""
        await repeat(self.sweep, every_seconds, "commitments_due_failed")


class CommitmentSnapshots:
    """After a merge or its undo, the customers involved get their open promises recomputed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    def subscriptions(self) -> Iterable[Subscription[Any]]:
        return [Subscription(Merged, self.refresh), Subscription(MergeUndone, self.refresh)]

    async def refresh(self, event: Merged | MergeUndone) -> None:
        """Both customers of the merge (one may keep no case) and the customer the case now belongs to."""
        async with self.sessions() as session, session.begin():
            merge = await session.get(Merge, event.merge_id)
            case = await session.get(Case, event.case_id)
            customers = {case.customer_id} if case is not None else set()
            if merge is not None:
                customers |= {merge.survivor_customer_id, merge.absorbed_customer_id}
            for customer_id in sorted(customers):
                await refresh_open(session, customer_id)
