"""Every case the reader may read, filtered and paged on the server: the inbox's case list and finding a case by id.

Filters: status, team, channel, assignee, the day range it was opened in, the reason it was handed off, its
CSAT. Newest first, paged by keyset (the last row's opening time and id: the cursor), with the total of the
filter, so a page costs the same on the first and the thousandth. Cases merged into another are listed only
when their status is asked for.
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, exists, func, literal, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.case_scope import readable
from handoff.core.hashchain import utc_iso
from handoff.core.merge_rules import MERGED
from handoff.core.permissions import Reader, can, sees_all_teams
from handoff.store.models import Agent, Case, Customer, Handoff

PAGE_DEFAULT, PAGE_MAX = 50, 200
CASE_ID_PREFIX = re.compile(r"^[0-9a-f]{8,32}$")


class BadCursor(ValueError):
    """A cursor this list did not make."""


@dataclass(frozen=True)
class CaseFilter:
    """What the list is narrowed to; an empty tuple or None does not narrow."""

    statuses: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    agent_id: str | None = None
    opened_from: datetime | None = None  # inclusive
    opened_before: datetime | None = None  # exclusive
    reasons: tuple[str, ...] = ()  # a handoff to people gave one of these reasons
    csat_min: int | None = None
    csat_max: int | None = None


def conditions(found: CaseFilter) -> list[ColumnElement[bool]]:
    """The filter as conditions on the cases table."""
    where: list[ColumnElement[bool]] = []
    where.append(Case.status.in_(found.statuses) if found.statuses else Case.status != MERGED)
    if found.teams:
        where.append(Case.team.in_(found.teams))
    if found.channels:
        where.append(Case.channel.in_(found.channels))
    if found.agent_id:
        where.append(Case.assignee_id == found.agent_id)
    if found.opened_from:
        where.append(Case.created_at >= found.opened_from)
    if found.opened_before:
        where.append(Case.created_at < found.opened_before)
    if found.reasons:
        where.append(exists().where(Handoff.case_id == Case.id, Handoff.direction == "to_human",
                                    Handoff.reason.in_(found.reasons)))
    if found.csat_min is not None:
        where.append(Case.csat >= found.csat_min)
    if found.csat_max is not None:
        where.append(Case.csat <= found.csat_max)
    return where


def scope(reader: Reader, found: CaseFilter) -> ColumnElement[bool]:
    """The reading rule (`case_scope.readable`) under the filter's teams: the same rows, in a form an index answers.

    With teams asked for, every row has one of them: those of the reader's teams are all readable, the others only
    when assigned to the reader. So an agent's count of their team's cases reads the index alone, not each row."""
    if not found.teams or not can(reader.role, "inbox") or sees_all_teams(reader.role):
        return readable(reader)
    theirs = [team for team in found.teams if team in set(reader.teams or ())]
    if len(theirs) == len(found.teams):
        return true()
    return or_(Case.team.in_(theirs), Case.assignee_id == reader.id) if theirs else Case.assignee_id == reader.id


def make_cursor(created_at: datetime, case_id: str) -> str:
    """The page after this row: its opening time and id, opaque to the client."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{case_id}".encode()).decode().rstrip("=")


def read_cursor(cursor: str) -> tuple[datetime, str]:
    """The row a cursor continues after, or BadCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, case_id = raw.split("|", 1)
        return datetime.fromisoformat(at), case_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise BadCursor("not a cursor of this list") from error


async def list_cases(session: AsyncSession, reader: Reader, found: CaseFilter, *, limit: int = PAGE_DEFAULT,
                     cursor: str | None = None) -> dict[str, Any]:
    """One page of the reader's cases under the filter, newest first, the filter's total and the next cursor."""
    where = [*conditions(found), scope(reader, found)]
    total = await session.scalar(select(func.count()).select_from(Case).where(*where))
    if cursor:
        at, after_id = read_cursor(cursor)
        # a row comparison, not an OR: both databases read it as one range of the index, newest first
        where.append(tuple_(Case.created_at, Case.id) < tuple_(literal(at, Case.created_at.type),
                                                              literal(after_id, Case.id.type)))
    rows = (await session.execute(_listed(where).order_by(Case.created_at.desc(), Case.id.desc())
                                  .limit(limit + 1))).all()
    page = rows[:limit]
    last = page[-1].Case if page and len(rows) > limit else None
    return {"items": await _items(session, page), "total": total or 0,
            "next_cursor": make_cursor(last.created_at, last.id) if last else None}


def _listed(where: list[ColumnElement[bool]]) -> Select[tuple[Case, str | None, str]]:
    """Cases with their customer's and assignee's names."""
    return (select(Case, Customer.display_name, Agent.display_name.label("assignee_name"))
            .join(Customer, Customer.id == Case.customer_id).outerjoin(Agent, Agent.id == Case.assignee_id)
            .where(*where))


async def _items(session: AsyncSession, rows: Sequence[Row[tuple[Case, str | None, str]]]
                 ) -> list[dict[str, Any]]:
    """The rows as the list shows them, with each case's latest handoff reason (one more statement)."""
    reasons = await _reasons(session, [row[0].id for row in rows])
    return [{"id": case.id, "status": case.status, "team": case.team, "channel": case.channel,
             "customer_id": case.customer_id, "customer_name": name, "assignee_id": case.assignee_id,
             "assignee_name": assignee, "reason": reasons.get(case.id), "csat": case.csat,
             "created_at": utc_iso(case.created_at),
             "resolved_at": utc_iso(case.resolved_at) if case.resolved_at else None,
             "merged_into_case_id": case.merged_into_case_id}
            for case, name, assignee in rows]


async def _reasons(session: AsyncSession, case_ids: list[str]) -> dict[str, str]:
    """Each case's latest reason for going to people."""
    reasons: dict[str, str] = {}
    if case_ids:
        for case_id, reason in await session.execute(
                select(Handoff.case_id, Handoff.reason).where(Handoff.case_id.in_(case_ids),
                                                              Handoff.direction == "to_human").order_by(Handoff.id)):
            reasons[case_id] = reason  # the latest wins
    return reasons


async def find_cases_by_id(session: AsyncSession, reader: Reader, query: str, *, limit: int) -> list[dict[str, Any]]:
    """Cases whose id is, or begins with, the query (8 to 32 hex characters), that the reader may read."""
    prefix = query.strip().lower()
    if not CASE_ID_PREFIX.match(prefix):
        return []
    match = Case.id == prefix if len(prefix) == 32 else and_(Case.id >= prefix, Case.id < prefix + "z")
    rows = (await session.execute(_listed([match, readable(reader)]).order_by(Case.id).limit(limit))).all()
    return await _items(session, rows)
