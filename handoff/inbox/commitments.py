"""Agents' commitments: record a promise on a case, mark it kept or broken, list them by the case-reading rule."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.case_scope import readable
from handoff.core.commitments import CommitmentRefused, check_promise, kept_on_time, promise, settle, state
from handoff.core.events import EventBus, EventsAdded
from handoff.core.hashchain import utc_iso
from handoff.core.permissions import Reader, can, may_read_case, sees_all_teams
from handoff.inbox.actions import InboxError
from handoff.inbox.auth import Principal
from handoff.store.models import Agent, Case, Commitment, Customer, utcnow

LIST_LIMIT = 200
OPEN_CASE = ("bot", "queued", "assigned")


def iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment else None


def commitment_view(commitment: Commitment, case: Case, customer: Customer | None, agent_name: str | None,
                    now: datetime) -> dict[str, Any]:
    """One promise as the inbox shows it (state computed now)."""
    current = state(commitment.status, commitment.due_at, now)
    return {
        "id": commitment.id, "case_id": commitment.case_id, "customer_id": case.customer_id,
        "customer_name": customer.display_name if customer else None, "team": case.team,
        "agent_id": commitment.agent_id, "agent_name": agent_name, "text": commitment.text,
        "due_at": utc_iso(commitment.due_at), "state": current, "overdue": current == "overdue",
        "kept_on_time": kept_on_time(commitment.status, commitment.kept_at, commitment.due_at),
        "kept_at": iso(commitment.kept_at), "alerted_at": iso(commitment.alerted_at),
        "created_at": utc_iso(commitment.created_at),
    }


def listing(reader: Reader, wanted: str, now: datetime, customer_id: str | None = None) -> Select[Any]:
    """The promises in one state on cases the reader may read: open and overdue soonest due first, others latest."""
    query = (select(Commitment, Case, Customer, Agent.display_name)
             .join(Case, Case.id == Commitment.case_id).join(Customer, Customer.id == Case.customer_id)
             .join(Agent, Agent.id == Commitment.agent_id).where(readable(reader)))
    if customer_id is not None:
        query = query.where(Case.customer_id == customer_id)
    if wanted == "open":
        query = query.where(Commitment.status == "open").order_by(Commitment.due_at, Commitment.id)
    elif wanted == "overdue":
        query = query.where(Commitment.status == "open", Commitment.due_at <= now).order_by(Commitment.due_at,
                                                                                             Commitment.id)
    else:
        query = query.where(Commitment.status == wanted).order_by(Commitment.kept_at.desc(), Commitment.id.desc())
    return query.limit(LIST_LIMIT)


async def listed(session: AsyncSession, reader: Reader, wanted: str, customer_id: str | None = None,
                 now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or utcnow()
    rows = (await session.execute(listing(reader, wanted, now, customer_id))).tuples().all()
    return [commitment_view(c, case, customer, name, now) for c, case, customer, name in rows]


class Commitments:
    """The agent-facing service behind the commitment routes: each write is one transaction with its audit entry."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus) -> None:
        self.sessions = sessions
        self.events = events

    async def promise(self, principal: Principal, case_id: str, text: str, due_at: datetime) -> dict[str, Any]:
        """The agent holding the case, or a supervisor, records what was promised and by when."""
        agent = principal.agent
        if not can(agent.role, "work"):
            raise InboxError(403, "this role cannot work cases")
        now = utcnow()
        try:
            body, due = check_promise(text, due_at, now)
        except CommitmentRefused as exc:
            raise InboxError(422, exc.message) from exc
        async with self.sessions() as session, session.begin():
            case = await session.get(Case, case_id, with_for_update=True)
            if case is None:
                raise InboxError(404, "no such case")
            if not may_read_case(agent, case):
                raise InboxError(403, "this case belongs to a team you are not in")
            if case.assignee_id != agent.id and not sees_all_teams(agent.role):
                raise InboxError(403, "only the agent holding the case, or a supervisor, records a commitment")
            if case.status not in OPEN_CASE:
                raise InboxError(409, f"the case is {case.status}")
            commitment, event = await promise(session, case, agent_id=agent.id, actor=principal.actor, text=body,
                                              due_at=due)
            await audit.record(session, principal.actor, "commitment", case_id=case.id,
                               commitment_id=commitment.id, due_at=utc_iso(due), event_id=event.id)
            customer = await session.get(Customer, case.customer_id)
            view = commitment_view(commitment, case, customer, agent.display_name, now)
        await self.events.publish(EventsAdded(case_id, (event.id,)))
        return view

    async def settle(self, principal: Principal, commitment_id: int, outcome: str) -> dict[str, Any]:
        """Kept or broken, once: by whoever promised, the case's holder, or a supervisor."""
        agent = principal.agent
        if not can(agent.role, "work"):
            raise InboxError(403, "this role cannot work cases")
        now = utcnow()
        async with self.sessions() as session, session.begin():
            commitment = await session.get(Commitment, commitment_id, with_for_update=True)
            if commitment is None:
                raise InboxError(404, "no such commitment")
            case = await session.get_one(Case, commitment.case_id, with_for_update=True)
            if not may_read_case(agent, case):
                raise InboxError(403, "this case belongs to a team you are not in")
            if agent.id not in (commitment.agent_id, case.assignee_id) and not sees_all_teams(agent.role):
                raise InboxError(403, "only who promised, the case's holder or a supervisor settles a commitment")
            if commitment.status != "open":
                raise InboxError(409, f"the commitment is already {commitment.status}")
            event = await settle(session, commitment, case, outcome=outcome, actor=principal.actor, now=now)
            await audit.record(session, principal.actor, f"commitment_{outcome}", case_id=case.id,
                               commitment_id=commitment.id, event_id=event.id)
            customer = await session.get(Customer, case.customer_id)
            promiser = await session.get(Agent, commitment.agent_id)
            view = commitment_view(commitment, case, customer, promiser.display_name if promiser else None, now)
        await self.events.publish(EventsAdded(case.id, (event.id,)))
        return view

    async def listed(self, principal: Principal, wanted: str, customer_id: str | None = None) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            return await listed(session, principal.agent, wanted, customer_id)
