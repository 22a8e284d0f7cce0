"""Routing with the database: assign a case to an agent or queue it, and drain queues onto free agents."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core import after_hours, routing_policy
from handoff.core.after_hours import hours_at
from handoff.core.agents import loads
from handoff.core.consent import allows_whatsapp
from handoff.core.handoffs import current_handoff, end_handoff
from handoff.core.operations import Operations
from handoff.core.routing import QueuedCase, plan_assignments
from handoff.core.routing_policy import Decision, Situation
from handoff.core.timeline import append_event
from handoff.store.models import Agent, Case, Customer, Handoff, Identity, utcnow

HANDOFFS_READ = 20  # a case's recent open and returned transitions: routing needs the newest of each
DRAIN_BATCH = 200  # queued cases looked at per drain; enough to fill every free slot of a large team


async def assign(session: AsyncSession, case: Case, agent: Agent, *, actor: str, accept: bool) -> None:
    """Gives the case to the agent (accepted now, or when they open it); the caller commits."""
    now = utcnow()
    case.status, case.assignee_id = "assigned", agent.id
    case.held_for_id = case.held_until = None
    agent.last_assigned_at = now
    handoff = await current_handoff(session, case.id)
    if handoff is not None:
        handoff.agent_id = agent.id
        if accept and handoff.accepted_at is None:
            handoff.accepted_at = now
    await append_event(session, case, channel=case.channel, direction="internal", actor=actor, kind="assignment",
                       text=agent.display_name, payload={"agent_id": agent.id, "accepted": accept})


def queued_ahead(case: Case) -> Select[tuple[int]]:
    """How many queued cases of the same team will be taken before this one (the queue's order, as SQL)."""
    return select(func.count()).select_from(Case).where(
        Case.status == "queued", Case.team == case.team, Case.id != case.id,
        or_(Case.priority > case.priority,
            and_(Case.priority == case.priority, Case.queued_at < case.queued_at)),
    )


async def queue_position(session: AsyncSession, case: Case) -> int:
    """1 + the queued cases of the same team that will be taken before this one."""
    return int(await session.scalar(queued_ahead(case)) or 0) + 1


async def case_handoffs(session: AsyncSession, case: Case) -> tuple[Handoff | None, str | None]:
    """In one read: the case's open handoff to people, and the last agent who handed the case back to the assistant
    (the agent a customer's reply goes back to)."""
    rows = list(await session.scalars(
        select(Handoff).where(Handoff.case_id == case.id, or_(
            and_(Handoff.direction == "to_human", Handoff.ended_at.is_(None)),
            and_(Handoff.direction == "to_bot", Handoff.agent_id.is_not(None))))
        .order_by(Handoff.id.desc()).limit(HANDOFFS_READ)))
    current = next((row for row in rows if row.direction == "to_human"), None)
    returned_by = next((row.agent_id for row in rows if row.direction == "to_bot"), None)
    return current, returned_by


async def previous_agent(session: AsyncSession, case: Case, handoff: Handoff | None,
                         returned_by: str | None) -> str | None:
    """Who a follow-up goes back to: the agent of the recontact's previous case, else the agent who handed this
    case back to the assistant (the customer now replies to them); None when it is not a follow-up."""
    if handoff is not None and handoff.reason == "transfer":
        return None  # people chose where it goes
    if case.previous_case_id is not None:
        previous = await session.get(Case, case.previous_case_id)
        if previous is not None and previous.assignee_id is not None:
            return previous.assignee_id
    return returned_by


async def situation_of(session: AsyncSession, case: Case, operations: Operations, handoff: Handoff | None,
                       returned_by: str | None, now: datetime | None = None) -> Situation:
    """The situation the routing policy decides on, read from the store for the just-queued case at `now` (the
    handoff's instant: business hours are read at it; default the business clock)."""
    hours = hours_at(operations, now or after_hours.business_clock())
    previous = await previous_agent(session, case, handoff, returned_by)
    agents = await loads(session, team=case.team)
    if previous is not None and all(agent.id != previous for agent in agents):
        agents += await loads(session, agent_ids=[previous])  # another team's: their load all the same
    sla = operations.sla.get(case.channel)
    # One read (routing runs on every handoff): the customer's facts and consent with their identities, and beside
    # them the case's place in its queue.
    reach = (await session.execute(
        select(Customer.facts, Customer.whatsapp_opted_out_at, Identity.kind, Identity.verified,
               queued_ahead(case).scalar_subquery().label("ahead"))
        .select_from(Customer).outerjoin(Identity, Identity.customer_id == Customer.id)
        .where(Customer.id == case.customer_id))).all()
    identities = [row for row in reach if row.kind is not None]
    told_phone = bool(reach and (reach[0].facts or {}).get("phone"))
    return Situation(
        team=case.team, channel=case.channel, language=operations.language_or_default(case.language),
        agents=agents, position=int(reach[0].ahead or 0) + 1 if reach else await queue_position(session, case),
        answer_target_seconds=sla.answer if sla is not None else None,
        average_handle_seconds=operations.inbox.average_handle_seconds,
        open_now=hours.is_open, opens_at=hours.next_open,
        follow_up=previous is not None, previous_agent=previous,
        intent=handoff.intent if handoff is not None else None,
        verified=any(identity.verified for identity in identities),
        whatsapp_reachable=bool(reach) and allows_whatsapp(reach[0].whatsapp_opted_out_at) and any(
            identity.verified and identity.kind in ("whatsapp", "phone") for identity in identities),
        phone_known=told_phone or any(identity.kind in ("whatsapp", "phone") for identity in identities),
        rules=operations.routing.rules(),
    )


async def decide(session: AsyncSession, case: Case, operations: Operations, now: datetime | None = None) -> Decision:
    """The routing decision for the just-queued case at `now`, reads only."""
    handoff, returned_by = await case_handoffs(session, case)
    return routing_policy.decide(await situation_of(session, case, operations, handoff, returned_by, now))


async def route_case(session: AsyncSession, case: Case, operations: Operations, *, actor: str = "system",
                     now: datetime | None = None) -> Decision:
    """Decides the just-queued case's next step at `now`, applies it (an agent, a hold for one, the queue, or kept
    for the opening) and records the decision and its reason on the handoff and the timeline."""
    now = now or after_hours.business_clock()
    handoff, returned_by = await case_handoffs(session, case)
    decision = routing_policy.decide(await situation_of(session, case, operations, handoff, returned_by, now))
    if decision.action == routing_policy.ASSIGN and decision.agent_id is not None:
        agent = await session.get(Agent, decision.agent_id, with_for_update=True)
        if agent is not None:
            await assign(session, case, agent, actor=actor, accept=False)
        else:  # gone meanwhile: decide again without them
            decision = routing_policy.decide(await situation_of(session, case, operations, handoff, returned_by,
                                                                now))
    case.kept_until = case.opened_at = None
    if decision.action == routing_policy.AFTER_HOURS:  # queued, routed to no one until the opening pass
        case.kept_until = decision.opens_at.astimezone(timezone.utc) if decision.opens_at else None
    if decision.action == routing_policy.HOLD and decision.hold_seconds is not None:
        case.held_for_id = decision.agent_id
        case.held_until = utcnow() + timedelta(seconds=decision.hold_seconds)
    if handoff is not None:
        handoff.decision, handoff.decision_reason = decision.action, decision.reason
    await append_event(session, case, channel=case.channel, direction="internal", actor=actor, kind="routing",
                       text=f"{decision.action}: {decision.reason}", payload=decision.as_payload())
    return decision


async def drain(session: AsyncSession, teams: set[str] | None = None) -> list[tuple[str, str]]:
    """Assigns queued cases to online agents with free capacity, in queue order; returns what it assigned."""
    online = await loads(session)
    if teams is None:
        teams = {team for agent in online if agent.free > 0 for team in agent.teams}
    if not teams:
        return []
    rows = (await session.execute(
        select(Case.id, Case.team, Case.priority, Case.queued_at, Case.held_for_id, Case.held_until)
        .where(Case.status == "queued", Case.team.in_(sorted(teams)), not_kept())
        .order_by(Case.priority.desc(), Case.queued_at).limit(DRAIN_BATCH)
    )).all()
    queue = [QueuedCase(row.id, row.team, row.priority, row.queued_at, row.held_for_id, row.held_until)
             for row in rows]
    done: list[tuple[str, str]] = []
    for case_id, agent_id in plan_assignments(queue, online, utcnow()):
        case = await session.get(Case, case_id, with_for_update=True)
        agent = await session.get(Agent, agent_id, with_for_update=True)
        if case is None or agent is None or case.status != "queued":
            continue  # another worker took it meanwhile
        await assign(session, case, agent, actor="system", accept=False)
        done.append((case_id, agent_id))
    return done


def not_kept() -> ColumnElement[bool]:
    """Not a case kept after hours that the opening pass has not routed yet (nobody takes those before it)."""
    return or_(Case.kept_until.is_(None), Case.opened_at.is_not(None))


async def abandon_stale(session: AsyncSession, silent_since: datetime) -> list[str]:
    """Queued or never-accepted cases whose customer has not written since `silent_since` end as abandoned; a case
    kept after hours is not waiting on the customer overnight: its silence counts from its opening."""
    stale = list(await session.scalars(
        select(Case).where(Case.status.in_(("queued", "assigned")), Case.last_customer_message_at < silent_since,
                           or_(Case.kept_until.is_(None), Case.opened_at < silent_since))
        .limit(DRAIN_BATCH).with_for_update(skip_locked=True)  # another worker's sweep has those: not waited for
    ))
    ended = []
    for case in stale:
        handoff = await current_handoff(session, case.id)
        if case.status == "assigned" and handoff is not None and handoff.accepted_at is not None:
            continue  # an agent is on it: theirs to resolve
        await end_handoff(session, case, "abandoned")
        case.status, case.resolved_at = "abandoned", utcnow()
        await append_event(session, case, channel=case.channel, direction="internal", actor="system",
                           kind="status", text="abandoned", payload={})
        ended.append(case.id)
    return ended
