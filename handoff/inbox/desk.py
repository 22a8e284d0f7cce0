"""The people side of a conversation: routes handed-off cases, tells the customer, keeps the inbox live.

`Conversations` calls it inside its transactions (routing, the customer's notice, CSAT answers) and after
its commits (live pushes); the inbox actions and the live namespace use it too.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.inbox.auth import Principal
from handoff.core.handoffs import current_handoff
from handoff.core import csat
from handoff.core.assignment import RouteDecision, abandon_stale, drain, route_case
from handoff.inbox.live import LiveInbox
from handoff.inbox.views import agent_names, case_summary, event_view
from handoff.core.messages import Deliverer, InboundMessage, OutboundMessage
from handoff.core.operations import Operations
from handoff.core.permissions import can_work_case
from handoff.core.sending import Staged, customer_address, deliver_staged, stage_to_customer
from handoff.store.models import Case, Customer, TimelineEvent, utcnow
from handoff.core.texts import text as service_text
from handoff.core.timeline import append_event

log = structlog.get_logger(__name__)


def routing_notice(decision: RouteDecision, language: str) -> str:
    """What the customer is told right after the handoff: who answers and roughly when."""
    if decision.agent_id is not None:
        return service_text("handoff_assigned", language)
    if decision.wait_seconds is None:
        return service_text("handoff_queued_unstaffed", language, position=decision.position)
    minutes = max(1, round(decision.wait_seconds / 60))
    return service_text("handoff_queued", language, position=decision.position, minutes=minutes)


class Desk:
    """Shared by the conversation service, the inbox actions and the live namespace of one process."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], operations: Operations,
                 deliverers: Mapping[str, Deliverer], live: LiveInbox | None = None) -> None:
        self.sessions = sessions
        self.operations = operations
        self.deliverers = deliverers
        self.live = live

    def language(self, case: Case, customer: Customer | None = None) -> str:
        return self.operations.language_or_default(case.language or (customer.language if customer else None))

    # ---- inside Conversations' transactions -------------------------------------------------------------
    async def after_handoff(self, session: AsyncSession, case: Case, customer: Customer, channel: str,
                            address: str) -> list[OutboundMessage]:
        """Routes the just-handed-off case and tells the customer in their language and channel."""
        decision = await route_case(session, case, self.operations)
        notice = OutboundMessage(actor="system", text=routing_notice(decision, self.language(case, customer)))
        await stage_to_customer(session, case, self.deliverers, channel=channel, address=address, message=notice,
                                actor="system")
        return [notice]

    async def csat_answer(self, session: AsyncSession, customer: Customer,
                          inbound: InboundMessage) -> tuple[Case, int] | None:
        """The resolved case this message answers the CSAT question of, with the score; else None."""
        case = await csat.awaiting_answer(session, customer)
        if case is None:
            return None
        score = csat.parse_answer(inbound.bot_input, self.language(case, customer))
        return (case, score) if score is not None else None

    async def record_csat(self, session: AsyncSession, case: Case, score: int, channel: str,
                          address: str) -> list[Staged]:
        """Stores the score on the case and thanks the customer."""
        case.csat = score
        await append_event(session, case, channel=channel, direction="internal", actor="customer", kind="csat",
                           text=str(score), payload={"score": score})
        thanks = OutboundMessage(actor="system", text=service_text("csat_thanks", self.language(case)))
        return [await stage_to_customer(session, case, self.deliverers, channel=channel, address=address,
                                        message=thanks, actor="system")]

    # ---- after commits ------------------------------------------------------------------------------------
    async def deliver(self, staged: list[Staged]) -> None:
        await deliver_staged(self.deliverers, staged)

    async def case_changed(self, case_id: str, previous_team: str | None = None) -> None:
        """Pushes the case's new state to the rooms that may see it."""
        if self.live is None:
            return
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            if case is None:
                return
            summary = case_summary(case, await session.get(Customer, case.customer_id),
                                   await current_handoff(session, case.id))
        await self.live.case_updated(summary, previous_team=previous_team)

    async def customer_message(self, case_id: str, event_id: int) -> None:
        """A customer wrote on a case people hold: the assignee and viewers see it at once."""
        if self.live is None:
            return
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            event = await session.get(TimelineEvent, event_id)
            if case is None or event is None:
                return
            view = event_view(event, {})
        await self.live.case_event(case.id, case.assignee_id, view)
        await self.case_changed(case.id)

    async def events_added(self, case_id: str, event_ids: list[int]) -> None:
        """Agent-side events (replies, notes, transitions) pushed to the case's viewers."""
        if self.live is None or not event_ids:
            return
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            events = [event for event_id in event_ids if (event := await session.get(TimelineEvent, event_id))]
            names = await agent_names(session, events)
        for event in events:
            if case is not None:
                await self.live.case_event(case.id, case.assignee_id, event_view(event, names))

    async def drain(self, teams: set[str] | None = None) -> None:
        """Fills free capacity from the queues, then tells everyone concerned."""
        async with self.sessions() as session, session.begin():
            assigned = await drain(session, teams)
        for case_id, _agent_id in assigned:
            await self.case_changed(case_id)

    async def sweep(self, abandon_after: timedelta) -> int:
        """Cases waiting for people whose customer went silent long ago end as abandoned."""
        async with self.sessions() as session, session.begin():
            ended = await abandon_stale(session, utcnow() - abandon_after)
        for case_id in ended:
            await self.case_changed(case_id)
        return len(ended)

    async def run_sweeper(self, abandon_after: timedelta, every_seconds: float = 60.0) -> None:
        """The background loop started with the app."""
        while True:
            try:
                await self.sweep(abandon_after)
            except Exception:  # a failed sweep is retried next round, never fatal
                log.exception("abandon_sweep_failed")
            await asyncio.sleep(every_seconds)

    # ---- for the live namespace -------------------------------------------------------------------------
    async def case_owner(self, case_id: str) -> tuple[str | None, str | None] | None:
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            return (case.team, case.assignee_id) if case else None

    async def agent_typing(self, principal: Principal, case_id: str, on: bool) -> None:
        """Shows the agent typing on the customer's latest channel, only for the case's assignee."""
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            if case is None or case.assignee_id != principal.agent.id or case.status != "assigned":
                return
            address = await customer_address(session, case.customer_id, case.channel, self.deliverers)
        deliverer = self.deliverers.get(case.channel)
        if deliverer is not None and address:
            await deliverer.typing(address, "agent", on)

    def may_work(self, principal: Principal, case: Case) -> bool:
        agent = principal.agent
        return can_work_case(agent.role, agent.id, agent.teams or [], case.team, case.assignee_id)
