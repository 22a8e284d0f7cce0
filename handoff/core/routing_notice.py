"""Right after a handoff: route the case, and tell the customer who answers and roughly when."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core import after_hours, routing_policy
from handoff.core.after_hours import after_hours_notice, hours_at
from handoff.core.assignment import route_case
from handoff.core.business_hours import HoursStatus
from handoff.core.cases import case_language
from handoff.core.events import Assigned, CaseChanged, CaseEvent, HandedOff
from handoff.core.handoffs import HandoffRequest, current_handoff, hand_to_people
from handoff.core.messages import Deliverer, OutboundMessage
from handoff.core.operations import Operations
from handoff.core.overflow_answers import OverflowAnswers
from handoff.core.routing_policy import Decision
from handoff.core.sending import stage_to_customer
from handoff.core.texts import text as service_text
from handoff.store.models import Case, Customer


def routing_notice(decision: Decision, language: str, hours: HoursStatus | None = None,
                   now: datetime | None = None, tone: str = "tuteo") -> str:
    """What the customer is told right after the handoff: who answers and roughly when (after hours: when people
    are back, from `hours` read at `now`)."""
    if decision.action == routing_policy.AFTER_HOURS and hours is not None and now is not None:
        return after_hours_notice(hours, now, language, tone)
    if decision.action == routing_policy.ASSIGN:
        return service_text("handoff_assigned", language, tone)
    if decision.action == routing_policy.HOLD:
        return service_text("handoff_held", language, tone)
    if decision.wait_seconds is None:
        return service_text("handoff_queued_unstaffed", language, tone, position=decision.position)
    minutes = max(1, round(decision.wait_seconds / 60))
    return service_text("handoff_queued", language, tone, position=decision.position, minutes=minutes)


@dataclass(frozen=True)
class Routed:
    """Where the case went and what the customer was told (staged, delivered after the commit)."""

    decision: Decision
    notice: OutboundMessage


class RoutingNotices:
    """Used inside the transaction that handed the case off, by every door (chat turns, calls)."""

    def __init__(self, operations: Operations, deliverers: Mapping[str, Deliverer],
                 clock: Callable[[], datetime] | None = None, overflow: OverflowAnswers | None = None) -> None:
        self.operations = operations
        self.deliverers = deliverers
        self.clock = clock  # the instant business hours are read at; None: the business clock
        self.overflow = overflow or OverflowAnswers(operations, deliverers)  # the choices when the queue overflows

    async def route(self, session: AsyncSession, case: Case, customer: Customer, channel: str,
                    address: str) -> Routed:
        """Routes the just-handed-off case and tells the customer in their language and channel: who answers and
        roughly when, or, when the queue overflows, the choices they have (buttons; digits on the phone)."""
        now = self.clock() if self.clock is not None else after_hours.business_clock()
        decision = await route_case(session, case, self.operations, now=now)
        language = case_language(self.operations, case, customer)
        notice = None
        if decision.action == routing_policy.OVERFLOW:
            notice = self.overflow.offer(await current_handoff(session, case.id), decision, language)
        notice = notice or OutboundMessage(actor="system", text=routing_notice(
            decision, language, hours_at(self.operations, now), now, self.operations.tone))
        await stage_to_customer(session, case, self.deliverers, channel=channel, address=address, message=notice,
                                actor="system")
        return Routed(decision, notice)

    async def hand_off(self, session: AsyncSession, case: Case, customer: Customer, request: HandoffRequest,
                       channel: str, address: str, *, actor: str = "system") -> tuple[OutboundMessage, list[CaseEvent]]:
        """Hands the case to people (the service's own decision, or `actor`'s), routes it and tells the customer;
        returns the notice (delivered after the commit) and the events to publish then."""
        handoff = await hand_to_people(session, case, request, self.operations, actor=actor)
        routed = await self.route(session, case, customer, channel, address)
        happened: list[CaseEvent] = [HandedOff(case.id, handoff.id, handoff.reason, handoff.intent,
                                               handoff.confidence, handoff.team)]
        if case.assignee_id is not None:
            happened.append(Assigned(case.id, case.assignee_id))
        happened.append(CaseChanged(case.id))
        return routed.notice, happened

    async def answer(self, session: AsyncSession, case: Case, channel: str, address: str, text: str,
                     handoff: HandoffRequest | None = None) -> tuple[list[OutboundMessage], list[CaseEvent]]:
        """The service answers the customer with `text` on the case; with `handoff`, a case the assistant still
        holds goes to people too (as hand_off). Returns what to deliver after the commit and the events to publish
        then."""
        reply = OutboundMessage(actor="system", text=text)
        await stage_to_customer(session, case, self.deliverers, channel=channel, address=address, message=reply,
                                actor="system")
        if handoff is None or case.status != "bot":  # people hold it already
            return [reply], []
        customer = await session.get_one(Customer, case.customer_id)
        notice, happened = await self.hand_off(session, case, customer, handoff, channel, address)
        return [reply, notice], happened
