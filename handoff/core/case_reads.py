"""Unread per agent and case: reading a case moves the agent's mark to its latest event; the lists count the
customer's messages after the mark and find the last agent message (the SLA clock stops there)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.store.models import CaseRead, TimelineEvent, utcnow


@dataclass(frozen=True)
class CaseMarks:
    unread: int  # the customer's messages on the case after the agent's read mark
    last_agent_message_at: datetime | None


NO_MARKS = CaseMarks(0, None)


async def mark_read(session: AsyncSession, agent_id: str, case_id: str) -> int | None:
    """The agent has seen the case up to its latest event; a mark only moves forward (two tabs, late requests)."""
    latest = await session.scalar(select(func.max(TimelineEvent.id)).where(TimelineEvent.case_id == case_id))
    if latest is None:
        return None
    values = {"agent_id": agent_id, "case_id": case_id, "last_event_id": latest, "read_at": utcnow()}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(CaseRead).values(**values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[CaseRead.agent_id, CaseRead.case_id],
        set_={"last_event_id": statement.excluded.last_event_id, "read_at": statement.excluded.read_at},
        where=CaseRead.last_event_id < statement.excluded.last_event_id))
    return latest


async def case_marks(session: AsyncSession, agent_id: str, case_ids: Iterable[str]) -> dict[str, CaseMarks]:
    """Unread counts and the last agent message of many cases in one statement."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    event = TimelineEvent
    customer_message = and_(event.actor == "customer", event.kind == "message")
    agent_message = and_(event.actor.like("agent:%"), event.direction == "out", event.kind == "message")
    rows = await session.execute(
        select(event.case_id,
               func.sum(case((and_(customer_message, event.id > func.coalesce(CaseRead.last_event_id, 0)), 1),
                             else_=0)),
               func.max(case((agent_message, event.created_at), else_=None)))
        .select_from(event)
        .outerjoin(CaseRead, and_(CaseRead.case_id == event.case_id, CaseRead.agent_id == agent_id))
        .where(event.case_id.in_(ids))
        .group_by(event.case_id))
    return {case_id: CaseMarks(int(unread or 0), last) for case_id, unread, last in rows.tuples()}
