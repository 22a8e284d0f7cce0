"""What agents do to a case: accept, reply, note, transfer, resolve, return to the assistant.

Each action checks the role and the case, changes the store in one transaction with its audit entry,
then (after the commit) delivers to the customer and pushes the change to the inbox.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit, csat
from handoff.core.assignment import assign, route_case
from handoff.core.cases import case_language
from handoff.core.consent import may_message_on_whatsapp, set_whatsapp_opt_out
from handoff.core.customers import follow_merges
from handoff.core.events import Assigned, CaseChanged, CaseEvent, EventBus, EventsAdded, HandedOff, Resolved
from handoff.core.handoffs import (
    HandoffRequest,
    current_handoff,
    end_handoff,
    hand_to_people,
    return_to_bot,
    transfer_handoff,
)
from handoff.core.messages import ChannelRefused, Deliverer, OutboundMessage
from handoff.core.operations import Operations
from handoff.core.permissions import can, can_work_case, sees_all_teams
from handoff.core.queues import Queues
from handoff.core.refusals import Refused
from handoff.core.sending import Staged, customer_address, deliver_staged, stage_to_customer
from handoff.core.texts import text as service_text
from handoff.core.timeline import append_event
from handoff.inbox.auth import Principal
from handoff.store.models import Agent, Case, Customer, utcnow

MAX_TEXT = 4096
Action = Callable[[AsyncSession, Principal, Case, "Outcome"], Awaitable[None]]
CLOSED = ("resolved", "abandoned")
OPTED_OUT = ("the customer opted out of WhatsApp messages we start (stop/baja): no template goes; clear the opt-out "
             "only if they ask to be written to")


class InboxError(Refused):
    """A refused action, with the HTTP status that says why."""


@dataclass
class Outcome:
    """What to do after the commit."""

    case_id: str
    staged: list[Staged] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    previous_team: str | None = None
    happened: list[CaseEvent] = field(default_factory=list)  # domain events beyond the usual two
    drain: bool = False  # someone's capacity was freed: fill it from the queues


def clean_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InboxError(400, "text is required")
    if len(text) > MAX_TEXT:
        raise InboxError(400, f"at most {MAX_TEXT} characters")
    return text.strip()


class InboxActions:
    """The agent-facing service; routes stay thin and call these."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], operations: Operations,
                 deliverers: Mapping[str, Deliverer], events: EventBus, queues: Queues) -> None:
        self.sessions = sessions
        self.operations = operations
        self.deliverers = deliverers
        self.events = events
        self.queues = queues

    async def _run(self, principal: Principal, case_id: str, action: Action) -> Outcome:
        """One transaction: load and lock the case, check the role, act, audit; then deliver and push."""
        if not can(principal.agent.role, "work"):
            raise InboxError(403, "this role cannot work cases")
        try:
            async with self.sessions() as session, session.begin():
                case = await session.get(Case, case_id, with_for_update=True)
                if case is None:
                    raise InboxError(404, "no such case")
                agent = principal.agent
                if not can_work_case(agent.role, agent.id, agent.teams or [], case.team, case.assignee_id):
                    raise InboxError(403, "this case belongs to a team you are not in")
                outcome = Outcome(case.id, previous_team=case.team)
                await action(session, principal, case, outcome)
        except ChannelRefused as exc:  # e.g. WhatsApp refuses free text 24 h after the customer wrote
            raise InboxError(409, str(exc)) from exc
        await deliver_staged(self.deliverers, outcome.staged)
        await self.events.publish(*outcome.happened, EventsAdded(outcome.case_id, tuple(outcome.event_ids)),
                                  CaseChanged(outcome.case_id, previous_team=outcome.previous_team))
        if outcome.drain:
            await self.queues.drain()
        return outcome

    async def _say(self, session: AsyncSession, case: Case, outcome: Outcome, message: OutboundMessage, actor: str,
                   channel: str | None = None, note: Mapping[str, Any] | None = None) -> None:
        """Stores and stages a message to the customer on their latest channel (or the one picked)."""
        channel = channel or case.channel
        if channel not in self.deliverers:
            raise InboxError(400, f"cannot answer on {channel}")
        address = await customer_address(session, case.customer_id, channel, self.deliverers.get(channel))
        if address is None:
            raise InboxError(409, f"the customer has no {channel} address")
        staged = await stage_to_customer(session, case, self.deliverers, channel=channel, address=address,
                                         message=message, actor=actor, note=note)
        outcome.staged.append(staged)
        outcome.event_ids.append(staged.event_id)

    async def _hold(self, session: AsyncSession, principal: Principal, case: Case, outcome: Outcome, *,
                    announce: bool = True) -> None:
        """Makes the principal the case's accepted holder (taking it over from the assistant if needed); the
        customer is told who joined unless `announce` is off (a template: free text may not go out then)."""
        if case.status in CLOSED:
            raise InboxError(409, f"the case is {case.status}")
        agent = await session.get_one(Agent, principal.agent.id, with_for_update=True)
        if case.assignee_id not in (None, agent.id):
            raise InboxError(409, "the case is assigned to someone else: transfer it first")
        if case.status == "bot":
            team = case.team if case.team in (agent.teams or []) else next(iter(agent.teams or []), case.team)
            taken = await hand_to_people(session, case, HandoffRequest(reason="agent_takeover", team=team),
                                         self.operations, actor=principal.actor)
            outcome.happened.append(HandedOff(case.id, taken.id, taken.reason, team=taken.team))
            await audit.record(session, principal.actor, "takeover", case_id=case.id)
        handoff = await current_handoff(session, case.id)
        if case.assignee_id == agent.id and handoff is not None and handoff.accepted_at is not None:
            return
        if case.assignee_id != agent.id:
            await assign(session, case, agent, actor=principal.actor, accept=True)
            outcome.happened.append(Assigned(case.id, agent.id))
        elif handoff is not None:
            handoff.accepted_at = utcnow()
        await audit.record(session, principal.actor, "accept", case_id=case.id)
        if not announce:
            return
        joined = OutboundMessage(actor="system",
                                 text=service_text("agent_joined", case_language(self.operations, case),
                                                   self.operations.tone, name=agent.display_name),
                                 custom={"agent_joined": agent.display_name})
        await self._say(session, case, outcome, joined, "system")

    # ---- actions ----------------------------------------------------------------------------------------
    async def accept(self, principal: Principal, case_id: str) -> Outcome:
        return await self._run(principal, case_id, self._hold)

    async def reply(self, principal: Principal, case_id: str, text: object, channel: str | None = None) -> Outcome:
        body = clean_text(text)

        async def act(session: AsyncSession, principal: Principal, case: Case, outcome: Outcome) -> None:
            await self._hold(session, principal, case, outcome)
            message = OutboundMessage(actor="agent", text=body, agent_name=principal.agent.display_name)
            await self._say(session, case, outcome, message, principal.actor, channel)
            await audit.record(session, principal.actor, "reply", case_id=case.id, channel=channel or case.channel,
                               event_id=outcome.event_ids[-1])
        return await self._run(principal, case_id, act)

    async def send_template(self, principal: Principal, case_id: str, message: OutboundMessage, *, channel: str,
                            template: str) -> Outcome:
        """An approved template (WhatsApp's, allowed outside its 24 hours): held like a reply, recorded by name;
        refused for a customer who opted out of WhatsApp messages we start (a template is one)."""
        async def act(session: AsyncSession, principal: Principal, case: Case, outcome: Outcome) -> None:
            customer = await session.get(Customer, case.customer_id)
            if customer is not None and not may_message_on_whatsapp(await follow_merges(session, customer)):
                raise InboxError(409, OPTED_OUT)
            await self._hold(session, principal, case, outcome, announce=False)
            await self._say(session, case, outcome, message, principal.actor, channel, note={"template": template})
            await audit.record(session, principal.actor, "template", case_id=case.id, channel=channel,
                               template=template, event_id=outcome.event_ids[-1])
        return await self._run(principal, case_id, act)

    async def note(self, principal: Principal, case_id: str, text: object) -> Outcome:
        body = clean_text(text)

        async def act(session: AsyncSession, principal: Principal, case: Case, outcome: Outcome) -> None:
            event = await append_event(session, case, channel=case.channel, direction="internal",
                                       actor=principal.actor, kind="note", text=body)
            outcome.event_ids.append(event.id)
            await audit.record(session, principal.actor, "note", case_id=case.id, event_id=event.id)
        return await self._run(principal, case_id, act)

    async def whatsapp_opt_out(self, principal: Principal, case_id: str, opted_out: bool) -> Outcome:
        """An agent marks (or clears) the customer's WhatsApp opt-out, e.g. asked by phone; a no-op when so."""
        async def act(session: AsyncSession, principal: Principal, case: Case, outcome: Outcome) -> None:
            customer = await session.get(Customer, case.customer_id)
            if customer is None:
                raise InboxError(404, "no such customer")
            customer = await follow_merges(session, customer)
            event = await set_whatsapp_opt_out(session, case, customer, opted_out=opted_out, actor=principal.actor,
                                               channel=case.channel)
            if event is not None:
                outcome.event_ids.append(event.id)
                await audit.record(session, principal.actor, "whatsapp_opt_out" if opted_out else "whatsapp_opt_in",
                                   case_id=case.id, event_id=event.id)
        return await self._run(principal, case_id, act)

    async def transfer(self, principal: Principal, case_id: str, *, team: str | None = None,
                       agent_id: str | None = None) -> Outcome:
        async def act(session: AsyncSession, principal: Principal, case: Case, outcome: Outcome) -> None:
            if case.status not in ("queued", "assigned"):
                raise InboxError(409, "only cases people hold can be transferred")
            if case.assignee_id not in (None, principal.agent.id) and not sees_all_teams(principal.agent.role):
                raise InboxError(409, "the case is assigned to someone else")
            target = await session.get(Agent, agent_id) if agent_id else None
            if agent_id and (target is None or not target.active or not can(target.role, "work")):
                raise InboxError(400, "no such agent")
            new_team = team or (case.team if target and case.team in (target.teams or [])
                                else next(iter(target.teams or []), case.team) if target else None)
            if new_team not in self.operations.teams:
                raise InboxError(400, "no such team")
            outcome.drain = case.assignee_id is not None
            await transfer_handoff(session, case, team=new_team, actor=principal.actor)
            if target is not None:
                await assign(session, case, target, actor=principal.actor, accept=False)
            else:
                await route_case(session, case, self.operations)
            if case.assignee_id is not None:
                outcome.happened.append(Assigned(case.id, case.assignee_id))
            await audit.record(session, principal.actor, "transfer", case_id=case.id, team=new_team,
                               agent_id=agent_id)
        return await self._run(principal, case_id, act)

    async def _release(self, principal: Principal, case: Case, outcome: Outcome) -> None:
        if case.status not in ("queued", "assigned"):
            raise InboxError(409, f"the case is {case.status}")
        if case.assignee_id not in (None, principal.agent.id) and not sees_all_teams(principal.agent.role):
            raise InboxError(409, "the case is assigned to someone else")
        outcome.drain = case.assignee_id is not None

    async def resolve(self, principal: Principal, case_id: str, disposition: object) -> Outcome:
        dispositions = self.operations.inbox.dispositions
        if not isinstance(disposition, str) or disposition not in dispositions:
            raise InboxError(400, f"disposition must be one of {', '.join(dispositions)}")

        async def act(session: AsyncSession, principal: Principal, case: Case, outcome: Outcome) -> None:
            await self._release(principal, case, outcome)
            await end_handoff(session, case, "resolved")
            now = utcnow()
            case.status, case.resolved_at, case.disposition, case.csat_requested_at = "resolved", now, disposition, now
            event = await append_event(session, case, channel=case.channel, direction="internal",
                                       actor=principal.actor, kind="status", text="resolved",
                                       payload={"disposition": disposition})
            outcome.event_ids.append(event.id)
            asked = csat.question(case_language(self.operations, case), self.operations.tone)
            await self._say(session, case, outcome, asked, "system")
            await audit.record(session, principal.actor, "resolve", case_id=case.id, disposition=disposition)
            outcome.happened.append(Resolved(case.id, disposition))
        return await self._run(principal, case_id, act)

    async def return_to_assistant(self, principal: Principal, case_id: str) -> Outcome:
        async def act(session: AsyncSession, principal: Principal, case: Case, outcome: Outcome) -> None:
            await self._release(principal, case, outcome)
            await return_to_bot(session, case, agent_id=principal.agent.id, actor=principal.actor)
            language = case_language(self.operations, case)
            said = service_text("returned_to_bot", language, self.operations.tone)
            notice = OutboundMessage(actor="system", text=said)
            await self._say(session, case, outcome, notice, "system")
            await audit.record(session, principal.actor, "return_to_bot", case_id=case.id)
        return await self._run(principal, case_id, act)
