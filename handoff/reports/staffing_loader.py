"""The staffing report's reads: transitions to people per quarter hour (one grouped statement), the first one ever,
and agents' presence history; then the pure arithmetic of reports/staffing.py. Recomputed on every request."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, Select, String, and_, case, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from handoff.core.operations import ChannelSla, Operations
from handoff.reports.queries import MICROS, elapsed_us
from handoff.reports.staffing import (
    QUARTER,
    Arrivals,
    OnlineStretch,
    Plan,
    Target,
    epoch_seconds,
    online_stretches,
    staffing_intervals,
)
from handoff.store.db import read_only
from handoff.store.models import Agent, Case, Handoff, PresenceChange

FORECAST_DAYS = 7
STATEMENT_TIMEOUT_MS = 30_000


class epoch_floor(FunctionElement[int]):
    """A timestamp as whole epoch seconds divided by a constant, rounded down (1: seconds; 900: quarter hours)."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_floor"


def _parts(element: epoch_floor, compiler: Any, **kw: Any) -> tuple[str, str]:
    value, divisor = (compiler.process(clause, **kw) for clause in element.clauses)
    return value, divisor


@compiles(epoch_floor, "postgresql")
def _epoch_postgresql(element: epoch_floor, compiler: Any, **kw: Any) -> str:
    value, divisor = _parts(element, compiler, **kw)
    return f"CAST(floor(extract(epoch FROM {value}) / {divisor}) AS BIGINT)"


@compiles(epoch_floor, "sqlite")
def _epoch_sqlite(element: epoch_floor, compiler: Any, **kw: Any) -> str:
    value, divisor = _parts(element, compiler, **kw)  # 'YYYY-MM-DD HH:MM:SS.ffffff', UTC
    return f"(CAST(strftime('%s', substr({value}, 1, 19)) AS INTEGER) / {divisor})"


def epoch_of(value: Any, seconds: int = 1) -> epoch_floor:
    return epoch_floor(value, literal(seconds, Integer()))


@dataclass(frozen=True)
class StaffingQuery:
    """What a supervisor asked for: [start, end) in UTC, the interval, and optional channel and team."""

    start: datetime
    end: datetime
    interval_minutes: int = 30
    channel: str | None = None
    team: str | None = None


def arrivals_query(since: datetime, until: datetime, channel: str | None, team: str | None) -> Select[Any]:
    """Transitions to people (transfers included) queued in [since, until), per quarter hour, channel and team:
    how many, how many were accepted and ended, and their handle time in microseconds."""
    quarter = epoch_of(Handoff.queued_at, QUARTER)
    team_key = func.coalesce(Handoff.team, "")
    handle = elapsed_us(Handoff.ended_at, Handoff.accepted_at)
    query = (select(quarter.label("quarter"), Case.channel, team_key.label("team"), func.count().label("offered"),
                    func.count(handle).label("handled"), func.coalesce(func.sum(handle), 0).label("handle_us"))
             .join(Case, Case.id == Handoff.case_id)
             .where(Handoff.direction == "to_human", Handoff.queued_at >= since, Handoff.queued_at < until)
             .group_by(quarter, Case.channel, team_key))
    if channel is not None:
        query = query.where(Case.channel == channel)
    if team is not None:
        query = query.where(team_key == team)
    return query


class json_rows(FunctionElement[str]):
    """The group's rows as one JSON text, [[a, b, …], …]: 100,000 quarter hours come back as a dozen rows, which
    the driver and SQLAlchemy hand over in a fraction of the time 100,000 rows take."""

    type = String()
    inherit_cache = True
    name = "json_rows"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: Any, **kw: Any) -> str:
    return f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)})) AS TEXT)"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


async def load_arrivals(session: AsyncSession, since: datetime, until: datetime, channel: str | None,
                        team: str | None) -> list[Arrivals]:
    cells = arrivals_query(since, until, channel, team).subquery("cells")
    per_key = (select(cells.c.channel, cells.c.team,
                      json_rows(cells.c.quarter, cells.c.offered, cells.c.handled, cells.c.handle_us).label("cells"))
               .group_by(cells.c.channel, cells.c.team))
    return [Arrivals(int(quarter), row.channel, row.team, int(offered), int(handled), int(handle_us) / MICROS)
            for row in (await session.execute(per_key)).all()
            for quarter, offered, handled, handle_us in json.loads(row.cells)]


async def first_transition(session: AsyncSession) -> datetime | None:
    """When people were first offered a contact: weeks before it are no evidence for the forecast."""
    first: datetime | None = await session.scalar(
        select(func.min(Handoff.queued_at)).where(Handoff.direction == "to_human"))
    return first


def in_order(move: list[int]) -> tuple[int, int]:
    """An agent's moves by time, then as stored (two within one second)."""
    return move[0], move[2]


async def load_online(session: AsyncSession, since: datetime, until: datetime, team: str | None
                      ) -> list[OnlineStretch]:
    """Agents' online stretches within [since, until) from the presence history: each agent's last change before
    `since` (their state when the range begins) and every change within it."""
    last_before = (select(func.max(PresenceChange.id)).where(PresenceChange.changed_at < since)
                   .group_by(PresenceChange.agent_id))
    changes = (select(PresenceChange.agent_id, epoch_of(PresenceChange.changed_at).label("moment"),
                      case((PresenceChange.presence == "online", 1), else_=0).label("online"), PresenceChange.id)
               .where(or_(PresenceChange.id.in_(last_before),
                          and_(PresenceChange.changed_at >= since, PresenceChange.changed_at < until)))
               .subquery("changes"))
    per_agent = (select(changes.c.agent_id, json_rows(changes.c.moment, changes.c.online, changes.c.id).label("moves"))
                 .group_by(changes.c.agent_id))
    moves = [(row.agent_id, int(moment), bool(online)) for row in (await session.execute(per_agent)).all()
             for moment, online, _id in sorted(json.loads(row.moves), key=in_order)]
    teams = {row.id: [str(name) for name in row.teams or []]
             for row in (await session.execute(select(Agent.id, Agent.teams))).all()}
    if team is not None:
        teams = {agent: [name for name in names if name == team] for agent, names in teams.items()}
    return online_stretches(moves, teams, epoch_seconds(until))


def targets(operations: Operations, channels: set[str]) -> dict[str, Target]:
    """Each channel's service-level target (sla.<channel>.service_level within first_response seconds; the
    defaults where the channel has none) and the operation's maximum occupancy."""
    occupancy = operations.staffing.max_occupancy
    found = {}
    for channel in sorted(channels):
        sla = operations.sla.get(channel, ChannelSla())
        found[channel] = Target(channel, sla.service_level, sla.first_response, occupancy)
    return found


async def staffing_report(session: AsyncSession, operations: Operations, wanted: StaffingQuery) -> dict[str, Any]:
    """The staffing report for the range and the forecast week after it."""
    zone = ZoneInfo(operations.timezone)
    weeks = operations.staffing.forecast_weeks
    local_end = wanted.end.astimezone(zone).replace(tzinfo=None)
    forecast_end = (local_end + timedelta(days=FORECAST_DAYS)).replace(tzinfo=zone)
    since = wanted.start - timedelta(weeks=weeks, hours=1)  # an hour of slack for a DST change in between
    await read_only(session)
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
    arrivals = await load_arrivals(session, since, wanted.end, wanted.channel, wanted.team)
    first = await first_transition(session)
    stretches = await load_online(session, wanted.start, wanted.end, wanted.team)
    plan = Plan(int(wanted.start.timestamp()), int(wanted.end.timestamp()), int(forecast_end.timestamp()),
                wanted.interval_minutes * 60, operations.timezone, weeks,
                float(operations.inbox.average_handle_seconds), None if first is None else epoch_seconds(first))
    channels = {row.channel for row in arrivals} | ({wanted.channel} if wanted.channel else set())
    goals = targets(operations, channels)
    return {"start": wanted.start.isoformat(), "end": wanted.end.isoformat(),
            "forecast_end": forecast_end.astimezone(wanted.end.tzinfo).isoformat(),
            "interval_minutes": wanted.interval_minutes, "forecast_weeks": weeks,
            "targets": [{"channel": t.channel, "service_level": t.service_level, "answer_seconds": t.answer_seconds,
                         "max_occupancy": t.max_occupancy} for t in goals.values()],
            "intervals": staffing_intervals(plan, arrivals, stretches, goals)}

