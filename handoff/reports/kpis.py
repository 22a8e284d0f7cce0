"""The supervisor KPIs as pure arithmetic over cells (sums per day, channel, team, intent and reason); the
definitions are written out in the README, and case by case in handoff/reports/measures.py."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from handoff.reports.facts import CELL_SUMS, COMMITMENT_OUTCOMES, OVERFLOW_CHOICES, Cell, Day

DIMENSIONS = ("day", "channel", "team", "intent")
MICROS = 1_000_000


def local_days(start: datetime, end: datetime, timezone_name: str) -> list[Day]:
    """[start, end) cut at local midnights: (local date, first instant, instant after) in UTC, DST-aware."""
    zone, days = ZoneInfo(timezone_name), []
    moment, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    while moment < end:
        today: date = moment.astimezone(zone).date()
        midnight = datetime.combine(today + timedelta(days=1), time.min, zone).astimezone(timezone.utc)
        after = min(end, midnight)
        days.append((today.isoformat(), moment, after))
        moment = after
    return days


def _ratio(part: int, whole: int) -> float | None:
    """None rather than a misleading 0 when nothing was measured."""
    return round(part / whole, 4) if whole else None


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def _mean_seconds(total_us: int, count: int) -> float | None:
    return round(total_us / (count * MICROS), 2) if count else None


def totals(cells: Iterable[Cell]) -> dict[str, int]:
    """Every sum of a group of cells."""
    summed = dict.fromkeys(CELL_SUMS, 0)
    for cell in cells:
        for name in CELL_SUMS:
            summed[name] += getattr(cell, name)
    return summed


def sla_attainment(cells: Iterable[Cell]) -> dict[str, float | None]:
    """Per channel with at least one measured transition: answered within target / measured."""
    checks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cell in cells:
        if cell.sla_checks:
            checks[cell.channel][0] += cell.sla_met
            checks[cell.channel][1] += cell.sla_checks
    return {channel: _ratio(met, checked) for channel, (met, checked) in sorted(checks.items())}


def aggregate(cells: Sequence[Cell]) -> dict[str, Any]:
    """Every KPI for one group of cells."""
    s = totals(cells)
    reasons: Counter[str] = Counter()
    for cell in cells:
        if cell.handoffs and cell.reason is not None:
            reasons[cell.reason] += cell.handoffs
    cases, contained = s["cases"], s["cases"] - s["assisted"]
    attainment = sla_attainment(cells)
    measured = [value for value in attainment.values() if value is not None]
    return {
        "cases": cases, "contained": contained, "containment_rate": _ratio(contained, cases),
        "handed_off": s["assisted"], "handoff_rate": _ratio(s["assisted"], cases),
        "handoffs": s["handoffs"], "handoff_reasons": dict(sorted(reasons.items())),
        "avg_bot_turns_before_handoff": _mean(s["bot_turns"], s["handoffs"]),
        "avg_bot_seconds_before_handoff": _mean_seconds(s["bot_us"], s["handoffs"]),
        "avg_queue_wait_seconds": _mean_seconds(s["wait_us"], s["waits"]),
        "abandoned_in_queue": s["abandoned"], "queue_abandonment_rate": _ratio(s["abandoned"], s["queue_done"]),
        "avg_first_response_seconds": _mean_seconds(s["response_us"], s["responses"]),
        "avg_handle_seconds": _mean_seconds(s["handle_us"], s["handled"]),
        "resolved": s["resolved"], "first_contact_resolutions": s["fcr"], "fcr_rate": _ratio(s["fcr"], s["resolved"]),
        "recontacts": s["recontacts"], "recontact_rate": _ratio(s["recontacts"], cases),
        "sla_attainment": attainment,
        "sla_spread": round(max(measured) - min(measured), 4) if len(measured) > 1 else None,
        "csat_bot_only": _mean(s["csat_bot_sum"], s["csat_bot_responses"]),
        "csat_assisted": _mean(s["csat_assisted_sum"], s["csat_assisted_responses"]),
        "csat_bot_only_responses": s["csat_bot_responses"], "csat_assisted_responses": s["csat_assisted_responses"],
        "reasked": s["reasked"], "reask_rate": _ratio(s["reasked"], cases),
        "overflowed": s["overflowed"], "overflow_rate": _ratio(s["overflowed"], s["handoffs"]),
        "overflow_choices": {**{choice: s[f"chose_{choice}"] for choice in OVERFLOW_CHOICES},
                             "unanswered": s["overflowed"] - sum(s[f"chose_{c}"] for c in OVERFLOW_CHOICES)},
    }


def report(cells: Sequence[Cell]) -> dict[str, Any]:
    """The totals and one table per dimension (day, channel, team, intent), rows sorted by name."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for dimension in DIMENSIONS:
        groups: dict[str, list[Cell]] = defaultdict(list)
        for cell in cells:
            groups[getattr(cell, dimension)].append(cell)
        tables[dimension] = [{dimension: name, **aggregate(group)} for name, group in sorted(groups.items())]
    return {"total": aggregate(cells), **tables}


def commitment_figures(counts: Mapping[str, int]) -> dict[str, Any]:
    """Promises due in the period by outcome; kept on time among those whose time has come (due − pending)."""
    figures = {outcome: int(counts.get(outcome, 0)) for outcome in COMMITMENT_OUTCOMES}
    due = sum(figures.values())
    return {"due": due, **figures,
            "kept_on_time_rate": _ratio(figures["kept_on_time"], due - figures["pending"])}
