"""Runs the dashboard's query (handoff/reports/queries.py) and hands the cells to the pure KPI arithmetic: the
only I/O of the KPIs. Nothing is kept between requests: every number is recomputed from the rows."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.operations import Operations
from handoff.reports import kpis
from handoff.reports.facts import CELL_KEY, Cell, Day
from handoff.reports.queries import commitment_counts, dashboard_cells
from handoff.store.db import read_only
from handoff.store.models import utcnow

STATEMENT_TIMEOUT_MS = 60_000


async def load_cells(session: AsyncSession, days: list[Day], *, window_hours: int,
                     sla: dict[str, int]) -> list[Cell]:
    """The sums per (day, channel, team, intent, reason) of the cases created within `days`."""
    if not days:
        return []
    await read_only(session)
    if session.bind.dialect.name == "postgresql":
        # This statement's cost estimates trip PostgreSQL's JIT, whose compilation alone takes longer than the
        # query; and a dashboard must not hold a connection for minutes (planner statistics missing after a
        # bulk load can make it that slow). LOCAL: both end with this read-only transaction.
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
    rows = (await session.execute(dashboard_cells(days, window_hours, sla))).all()
    width = len(CELL_KEY)
    return [Cell(*row[:width], *(int(value) for value in row[width:])) for row in rows]


async def dashboard(session: AsyncSession, operations: Operations, start: datetime, end: datetime) -> dict[str, Any]:
    """The KPI report for [start, end), recomputed from the rows every time (no counters that drift)."""
    days = kpis.local_days(start, end, operations.timezone)
    cells = await load_cells(session, days, window_hours=operations.follow_up_window_hours,
                             sla={channel: target.first_response for channel, target in operations.sla.items()})
    counts = await load_commitment_counts(session, start, end, utcnow())
    return {"start": start.isoformat(), "end": end.isoformat(), **kpis.report(cells),
            "commitments": kpis.commitment_figures(counts)}


async def load_commitment_counts(session: AsyncSession, start: datetime, end: datetime,
                                 now: datetime) -> dict[str, int]:
    """The commitments due within [start, end), by outcome at `now` (one small indexed read)."""
    row = (await session.execute(commitment_counts(start, end, now))).one()
    return {key: int(value) for key, value in row._mapping.items()}
