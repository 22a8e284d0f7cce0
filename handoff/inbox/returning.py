"""The inbox's "returning customer" read model: a recontact's previous case (when, its outcome, its agent) and
what was promised on it and is still open, so the agent who takes a follow-up does not ask again."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core import routing_policy
from handoff.core.case_scope import readable
from handoff.core.commitments import aware
from handoff.core.hashchain import utc_iso
from handoff.core.permissions import Reader
from handoff.store.models import Agent, Case, Commitment, Handoff, utcnow

FOLLOW_UP_REASONS = (routing_policy.FOLLOW_UP_AGENT, routing_policy.FOLLOW_UP_AGENT_BUSY,
                     routing_policy.FOLLOW_UP_AGENT_AWAY)


OPEN_LIMIT = 20  # a case with more open promises than this is its own problem; the commitments panel lists all


async def open_commitments(session: AsyncSession, case_id: str) -> list[dict[str, Any]]:
    """The previous case's promises still open (overdue ones included), soonest due first."""
    rows = await session.scalars(select(Commitment).where(Commitment.case_id == case_id,
                                                          Commitment.status == "open")
                                 .order_by(Commitment.due_at, Commitment.id).limit(OPEN_LIMIT))
    now = utcnow()
    return [{"id": row.id, "text": row.text, "due_at": utc_iso(row.due_at),
             "overdue": aware(row.due_at) < now} for row in rows]


async def returning_view(session: AsyncSession, case: Case, latest: Handoff | None,
                         reader: Reader) -> dict[str, Any] | None:
    """None unless the customer is back: a recontact within the follow-up window (the previous case, if the reader
    may read it) or a reply the routing sent back to the agent who handled them."""
    followed = latest is not None and latest.decision_reason in FOLLOW_UP_REASONS
    if case.previous_case_id is None and not followed:
        return None
    previous = None
    if case.previous_case_id is not None:
        previous = await session.scalar(select(Case).where(Case.id == case.previous_case_id, readable(reader)))
    if previous is None:
        return {"previous_case": None, "commitments": None,
                "routing_reason": latest.decision_reason if latest else None}
    agent = await session.get(Agent, previous.assignee_id) if previous.assignee_id else None
    outcome = await session.scalar(select(Handoff.outcome).where(Handoff.case_id == previous.id,
                                                                 Handoff.direction == "to_human")
                                   .order_by(Handoff.id.desc()).limit(1))
    return {
        "previous_case": {
            "id": previous.id, "status": previous.status, "channel": previous.channel, "team": previous.team,
            "disposition": previous.disposition, "outcome": outcome,
            "created_at": utc_iso(previous.created_at),
            "resolved_at": utc_iso(previous.resolved_at) if previous.resolved_at else None,
            "agent_id": previous.assignee_id, "agent_name": agent.display_name if agent else None,
        },
        "commitments": await open_commitments(session, previous.id),
        "routing_reason": latest.decision_reason if latest else None,
    }
