"""The reviewers' queue for a week: a share of each agent's handed-off cases, and every transition-review tag."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.operations import Operations
from handoff.core.qa import sample, week_bounds
from handoff.store.db import read_only
from handoff.store.models import Agent, Case, Customer, Handoff, QaReview, TimelineEvent

MAX_ITEMS = 500


@dataclass
class QueueItem:
    """One case to score, whose work it is, and why it is queued (sampled, tagged in transition review)."""

    case_id: str
    agent_id: str | None
    sources: list[str] = field(default_factory=list)


def queue_items(handled: list[tuple[str, str]], tagged: list[tuple[str, str | None, str]],
                share: float) -> list[QueueItem]:
    """Pure: (case, agent) pairs handled in the week sampled per agent, plus (case, agent, tag) tagged ones."""
    by_agent: dict[str, set[str]] = defaultdict(set)
    for case_id, agent_id in handled:
        by_agent[agent_id].add(case_id)
    items: dict[tuple[str, str | None], QueueItem] = {}
    for agent_id, case_ids in sorted(by_agent.items()):
        for case_id in sample(case_ids, share):
            items.setdefault((case_id, agent_id), QueueItem(case_id, agent_id)).sources.append("sample")
    for case_id, worker, tag in tagged:
        item = items.setdefault((case_id, worker), QueueItem(case_id, worker))
        if f"transition: {tag}" not in item.sources:
            item.sources.append(f"transition: {tag}")
    return sorted(items.values(), key=lambda item: (item.agent_id or "", item.case_id))


async def week_queue(session: AsyncSession, operations: Operations, week: str,
                     reviewer_id: str) -> list[dict[str, Any]]:
    """The week's items with the case, the agent, the channels it crossed and who has scored it already."""
    await read_only(session)
    start, end = week_bounds(week, operations.timezone)
    handled = [(case_id, agent_id) for case_id, agent_id in await session.execute(
        select(Handoff.case_id, Handoff.agent_id).distinct()
        .where(Handoff.direction == "to_human", Handoff.agent_id.is_not(None),
               Handoff.accepted_at >= start, Handoff.accepted_at < end))]
    tagged = [(case_id, agent_id or assignee, tag) for case_id, agent_id, assignee, tag in await session.execute(
        select(Handoff.case_id, Handoff.agent_id, Case.assignee_id, Handoff.review_tag)
        .join(Case, Case.id == Handoff.case_id)
        .where(Handoff.review_tag.is_not(None), Handoff.queued_at >= start, Handoff.queued_at < end)
        .order_by(Handoff.id))]
    items = queue_items(handled, tagged, operations.qa.sample_share)[:MAX_ITEMS]
    case_ids = {item.case_id for item in items}
    if not case_ids:
        return []
    cases = {case.id: case for case in await session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    customers = dict((await session.execute(
        select(Customer.id, Customer.display_name).where(Customer.id.in_({c.customer_id for c in cases.values()}))
    )).tuples().all())
    channels: dict[str, set[str]] = defaultdict(set)
    for case_id, channel in await session.execute(select(TimelineEvent.case_id, TimelineEvent.channel).distinct()
                                                  .where(TimelineEvent.case_id.in_(case_ids))):
        channels[case_id].add(channel)
    reviews: dict[str, list[str]] = defaultdict(list)
    for case_id, reviewer in await session.execute(select(QaReview.case_id, QaReview.reviewer_id)
                                                   .where(QaReview.case_id.in_(case_ids))):
        reviews[case_id].append(reviewer)
    names = dict((await session.execute(select(Agent.id, Agent.display_name).where(
        Agent.id.in_({item.agent_id for item in items if item.agent_id}))
    )).tuples().all())
    return [{"case_id": item.case_id, "agent_id": item.agent_id, "agent_name": names.get(item.agent_id or ""),
             "team": cases[item.case_id].team, "status": cases[item.case_id].status,
             "customer_name": customers.get(cases[item.case_id].customer_id),
             "channels": sorted(channels[item.case_id]), "sources": item.sources,
             "reviews": len(reviews[item.case_id]), "reviewed_by_me": reviewer_id in reviews[item.case_id]}
            for item in items if item.case_id in cases]
