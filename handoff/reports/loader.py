"""Reads the rows the KPIs need from cases, handoffs and the timeline: the only I/O of the reports."""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.operations import Operations
from handoff.reports import kpis
from handoff.reports.facts import CaseFact, HandoffFact
from handoff.store.models import Case, Handoff, TimelineEvent


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


async def load_facts(session: AsyncSession, start: datetime, end: datetime) -> list[CaseFact]:
    """Cases created in [start, end) with their transitions and the first agent reply after each."""
    case_rows = (await session.execute(
        select(Case.id, Case.customer_id, Case.channel, Case.status, Case.created_at, Case.resolved_at, Case.csat)
        .where(Case.created_at >= start, Case.created_at < end)
    )).all()
    in_range = and_(Case.created_at >= start, Case.created_at < end)
    handoffs: dict[str, list[Any]] = defaultdict(list)
    for row in (await session.execute(
        select(Handoff.case_id, Handoff.direction, Handoff.reason, Handoff.intent, Handoff.team, Handoff.bot_turns,
               Handoff.queued_at, Handoff.accepted_at, Handoff.ended_at, Handoff.outcome)
        .join(Case, Case.id == Handoff.case_id).where(in_range).order_by(Handoff.id)
    )).all():
        handoffs[row.case_id].append(row)
    replies: dict[str, list[datetime]] = defaultdict(list)
    for case_id, created_at in (await session.execute(
        select(TimelineEvent.case_id, TimelineEvent.created_at).join(Case, Case.id == TimelineEvent.case_id)
        .where(in_range, TimelineEvent.kind == "message", TimelineEvent.direction == "out",
               TimelineEvent.actor.like("agent:%"))
    )).all():
        replies[case_id].append(_utc(created_at))  # type: ignore[arg-type]
    for moments in replies.values():
        moments.sort()
    return [CaseFact(id=row.id, customer_id=row.customer_id, channel=row.channel, status=row.status,
                     created_at=_utc(row.created_at), resolved_at=_utc(row.resolved_at), csat=row.csat,  # type: ignore[arg-type]
                     handoffs=tuple(_handoff(h, replies.get(row.id, [])) for h in handoffs.get(row.id, [])))
            for row in case_rows]


def _handoff(row: Any, replies: list[datetime]) -> HandoffFact:
    """The first agent message at or after queueing (and before the transition ended) is its first response."""
    queued = _utc(row.queued_at)
    first = None
    index = bisect_left(replies, queued)
    ended = _utc(row.ended_at)
    if index < len(replies) and (ended is None or replies[index] <= ended):
        first = replies[index]
    return HandoffFact(direction=row.direction, reason=row.reason, intent=row.intent, team=row.team,
                       bot_turns=row.bot_turns or 0, queued_at=queued, accepted_at=_utc(row.accepted_at),  # type: ignore[arg-type]
                       ended_at=ended, outcome=row.outcome, first_response_at=first)


async def dashboard(session: AsyncSession, operations: Operations, start: datetime, end: datetime) -> dict[str, Any]:
    """The KPI report for [start, end), recomputed from the rows every time (no counters that drift)."""
    window = timedelta(hours=operations.follow_up_window_hours)
    context = await load_facts(session, start - window, end + window)
    cases = [case for case in context if start <= case.created_at < end]
    return {"start": start.isoformat(), "end": end.isoformat(),
            **kpis.report(cases, context, window_hours=operations.follow_up_window_hours,
                          sla={channel: target.first_response for channel, target in operations.sla.items()},
                          timezone_name=operations.timezone)}
