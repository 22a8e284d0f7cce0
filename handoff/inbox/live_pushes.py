"""The inbox's reaction to domain events: what agents see change live (queues, case views, timelines)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.events import CaseChanged, CommitmentDue, EventsAdded, MessageStored, Subscription
from handoff.core.handoffs import current_handoff
from handoff.core.hashchain import utc_iso
from handoff.inbox.live import LiveInbox
from handoff.inbox.views import agent_names, case_summary, event_view
from handoff.store.models import Case, Commitment, Customer, TimelineEvent


class LivePushes:
    """Subscribed to the bus once per process; reads what changed and pushes it to the rooms allowed to see it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], live: LiveInbox) -> None:
        self.sessions = sessions
        self.live = live

    def subscriptions(self) -> Iterable[Subscription[Any]]:
        return [Subscription(CaseChanged, self.case_changed), Subscription(MessageStored, self.customer_message),
                Subscription(EventsAdded, self.events_added), Subscription(CommitmentDue, self.commitment_due)]

    async def case_changed(self, event: CaseChanged) -> None:
        """Pushes the case's new state to the rooms that may see it."""
        await self._push_case(event.case_id, event.previous_team)

    async def _push_case(self, case_id: str, previous_team: str | None = None) -> None:
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            if case is None:
                return
            summary = await self._summary(session, case)
        await self.live.case_updated(summary, previous_team=previous_team)

    @staticmethod
    async def _summary(session: AsyncSession, case: Case) -> dict[str, Any]:
        customer = await session.get(Customer, case.customer_id)
        return case_summary(case, customer, await current_handoff(session, case.id))

    async def customer_message(self, event: MessageStored) -> None:
        """A customer wrote on a case people hold: the assignee and viewers see it at once."""
        if event.to_bot:  # the assistant's turn; the inbox hears of it when people take over
            return
        async with self.sessions() as session:
            case = await session.get(Case, event.case_id)
            stored = await session.get(TimelineEvent, event.event_id)
            if case is None or stored is None:
                return
            view = event_view(stored, {})
            summary = await self._summary(session, case)  # the same read serves both pushes
        await self.live.case_event(case.id, case.team, case.assignee_id, view)
        await self.live.case_updated(summary)

    async def events_added(self, event: EventsAdded) -> None:
        """Agent-side events (replies, notes, transitions) pushed to the case's viewers."""
        if not event.event_ids:
            return
        async with self.sessions() as session:
            case = await session.get(Case, event.case_id)
            events = [found for event_id in event.event_ids if (found := await session.get(TimelineEvent, event_id))]
            names = await agent_names(session, events)
        for found in events:
            if case is not None:
                await self.live.case_event(case.id, case.team, case.assignee_id, event_view(found, names))

    async def commitment_due(self, event: CommitmentDue) -> None:
        """A promise came due still open: who promised, the case's holder and its team are told (once: claimed)."""
        async with self.sessions() as session:
            commitment = await session.get(Commitment, event.commitment_id)
            if commitment is None:
                return
            alert = {"commitment_id": commitment.id, "case_id": event.case_id, "text": commitment.text,
                     "due_at": utc_iso(commitment.due_at), "agent_id": commitment.agent_id}
        agents = {event.agent_id, *([event.assignee_id] if event.assignee_id else [])}
        await self.live.commitment_due(alert, team=event.team, agent_ids=sorted(agents))
