"""Routing with the database: assign a case to an agent or queue it, and drain queues onto free agents."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.agents import loads
from handoff.core.handoffs import current_handoff, end_handoff
from handoff.core.operations import Operations
from handoff.core.routing import QueuedCase, estimated_wait_seconds, pick_agent, plan_assignments
from handoff.core.timeline import append_event
from handoff.store.models import Agent, Case, utcnow

DRAIN_BATCH = 200  # queued cases looked at per drain; enough to fill every free slot of a large team


@dataclass(frozen=True)
class RouteDecision:
    """Where a case went: to an agent, or into the queue at a position with a rough wait."""

    agent_id: str | None
    position: int | None = None
    wait_seconds: int | None = None


async def assign(session: AsyncSession, case: Case, agent: Agent, *, actor: str, accept: bool) -> None:
    """Gives the case to the agent (accepted now, or when they open it); the caller commits."""
    now = utcnow()
    case.status, case.assignee_id = "assigned", agent.id
    agent.last_assigned_at = now
    handoff = await current_handoff(session, case.id)
    if handoff is not None:
        handoff.agent_id = agent.id
        if accept and handoff.accepted_at is None:
            handoff.accepted_at = now
    await append_event(session, case, channel=case.channel, direction="internal", actor=actor, kind="assignment",
                       text=agent.display_name, payload={"agent_id": agent.id, "accepted": accept})


async def queue_position(session: AsyncSession, case: Case) -> int:
    """1 + the queued cases of the same team that will be taken before this one."""
    ahead = await session.scalar(
        select(func.count()).select_from(Case).where(
            Case.status == "queued", Case.team == case.team, Case.id != case.id,
            or_(Case.priority > case.priority,
                and_(Case.priority == case.priority, Case.queued_at < case.queued_at)),
        )
    )
    return int(ahead or 0) + 1


async def decide(session: AsyncSession, case: Case, operations: Operations) -> RouteDecision:
    """The routing decision, reads only: the best online agent of the team, else the queue position and wait."""
    online = await loads(session, team=case.team)
    chosen = pick_agent(case.team, online)
    if chosen is not None:
        return RouteDecision(chosen.id)
    position = await queue_position(session, case)
    wait = estimated_wait_seconds(position, online, case.team, operations.inbox.average_handle_seconds)
    return RouteDecision(None, position, wait)


async def route_case(session: AsyncSession, case: Case, operations: Operations) -> RouteDecision:
    """Assigns the just-queued case to the best online agent of its team, else leaves it queued."""
    decision = await decide(session, case, operations)
    if decision.agent_id is not None:
        agent = await session.get(Agent, decision.agent_id, with_for_update=True)
        if agent is not None:
            await assign(session, case, agent, actor="system", accept=False)
            return decision
        return await decide(session, case, operations)
    return decision


async def drain(session: AsyncSession, teams: set[str] | None = None) -> list[tuple[str, str]]:
    """Assigns queued cases to online agents with free capacity, in queue order; returns what it assigned."""
    online = await loads(session)
    if teams is None:
        teams = {team for agent in online if agent.free > 0 for team in agent.teams}
    if not teams:
        return []
    rows = (await session.execute(
        select(Case.id, Case.team, Case.priority, Case.queued_at)
        .where(Case.status == "queued", Case.team.in_(sorted(teams)))
        .order_by(Case.priority.desc(), Case.queued_at).limit(DRAIN_BATCH)
    )).all()
    queue = [QueuedCase(row.id, row.team, row.priority, row.queued_at) for row in rows]
    done: list[tuple[str, str]] = []
    for case_id, agent_id in plan_assignments(queue, online):
        case = await session.get(Case, case_id, with_for_update=True)
        agent = await session.get(Agent, agent_id, with_for_update=True)
        if case is None or agent is None or case.status != "queued":
            continue  # another worker took it meanwhile
        await assign(session, case, agent, actor="system", accept=False)
        done.append((case_id, agent_id))
    return done


async def abandon_stale(session: AsyncSession, silent_since: datetime) -> list[str]:
    """Queued or never-accepted cases whose customer has not written since `silent_since` end as abandoned."""
    stale = list(await session.scalars(
        select(Case).where(Case.status.in_(("queued", "assigned")), Case.last_customer_message_at < silent_since)
        .limit(DRAIN_BATCH).with_for_update()
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
