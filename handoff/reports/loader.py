"""Runs the dashboard's query (handoff/reports/queries.py) and hands the cells to the pure KPI arithmetic: the
only I/O of the KPIs. Nothing is kept between requests: every number is recomputed from the rows."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.operations import Operations
from handoff.reports import kpis, occupancy, service
from handoff.reports.facts import CELL_KEY, Cell, Day
from handoff.reports.queries import commitment_counts, dashboard_cells
from handoff.reports.service_queries import handle_by_agent, presence_changes, service_cells
from handoff.store.db import read_only
from handoff.store.models import Agent, utcnow

STATEMENT_TIMEOUT_MS = 60_000


async def report_transaction(session: AsyncSession) -> None:
    """A read-only snapshot for the report's statements, PostgreSQL's JIT off and a time limit."""
    await read_only(session)
    if session.bind.dialect.name == "postgresql":
        # These statements' cost estimates trip PostgreSQL's JIT, whose compilation alone takes longer than the
        # query; and a dashboard must not hold a connection for minutes (planner statistics missing after a
        # bulk load can make it that slow). LOCAL: both end with this read-only transaction.
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))


async def load_cells(session: AsyncSession, days: list[Day], *, window_hours: int,
                     sla: dict[str, int]) -> list[Cell]:
    """The sums per (day, channel, team, intent, reason) of the cases created within `days`."""
    if not days:
        return []
    await report_transaction(session)
    rows = (await session.execute(dashboard_cells(days, window_hours, sla))).all()
    width = len(CELL_KEY)
    return [Cell(*row[:width], *(int(value) for value in row[width:])) for row in rows]


async def dashboard(session: AsyncSession, operations: Operations, start: datetime, end: datetime) -> dict[str, Any]:
    """The KPI report for [start, end), recomputed from the rows every time (no counters that drift)."""
    days = kpis.local_days(start, end, operations.timezone)
    cells = await load_cells(session, days, window_hours=operations.follow_up_window_hours,
                             sla={channel: target.first_response for channel, target in operations.sla.items()})
    now = utcnow()
    counts = await load_commitment_counts(session, start, end, now)
    report = kpis.report(cells)
    return {"start": start.isoformat(), "end": end.isoformat(), **report,
            "commitments": kpis.commitment_figures(counts),
            "service": await service_report(session, operations, days, report["day"], now)}


def targets(operations: Operations, now: datetime) -> service.Targets:
    """The service KPIs' targets from operations.yml, at `now`."""
    return service.Targets(answer={channel: target.answer for channel, target in operations.sla.items()},
                           window_hours=operations.follow_up_window_hours,
                           short_abandon_seconds=operations.short_abandon_seconds,
                           assistant_silence_minutes=operations.assistant_silence_minutes, now=now)


async def load_service_cells(session: AsyncSession, days: list[Day],
                             wanted: service.Targets) -> list[service.ServiceCell]:
    """The service sums per (day, channel) of the cases created within `days`."""
    if not days:
        return []
    await report_transaction(session)
    rows = (await session.execute(service_cells(days, wanted))).all()
    width = len(service.CELL_KEY)
    return [service.ServiceCell(*row[:width], *(int(value) for value in row[width:])) for row in rows]


async def load_occupancy(session: AsyncSession, start: datetime, end: datetime) -> dict[str, Any]:
    """Handle time over online time per agent within [start, end) (a range reaching past now stops at now)."""
    changes = [occupancy.PresenceFact(*row) for row in (await session.execute(presence_changes(start, end))).all()]
    handle = {row.agent_id: int(row.handle_us or 0) for row in (await session.execute(handle_by_agent(start, end)))}
    online = occupancy.online_us(changes, start, end)
    agents = set(handle) | set(online)
    names = dict((await session.execute(select(Agent.id, Agent.display_name).where(Agent.id.in_(agents)))).tuples()
                 .all()) if agents else {}
    return occupancy.occupancy(handle, online, names)


async def service_report(session: AsyncSession, operations: Operations, days: list[Day],
                         day_rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Durable containment, service level, ASA, AHT, one-contact resolution, abandonment by cause, occupancy and the
    SLA spreads day by day (service level's, and first response's from the day rows)."""
    report = service.report(await load_service_cells(session, days, targets(operations, now)))
    first_response = {row["day"]: row["sla_spread"] for row in day_rows}
    report["trend"] = [{**row, "first_response_spread": first_response.get(row["day"])} for row in report["trend"]]
    if days:
        report["occupancy"] = await load_occupancy(session, days[0][1], min(days[-1][2], now))
    else:
        report["occupancy"] = occupancy.occupancy({}, {})
    return report


async def load_commitment_counts(session: AsyncSession, start: datetime, end: datetime,
                                 now: datetime) -> dict[str, int]:
    """The commitments due within [start, end), by outcome at `now` (one small indexed read)."""
    row = (await session.execute(commitment_counts(start, end, now))).one()
    return {key: int(value) for key, value in row._mapping.items()}
