"""The supervisor KPIs as pure functions of case facts; definitions are written out in the README."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from math import fsum
from typing import Any
from zoneinfo import ZoneInfo

from handoff.reports.facts import CaseFact, HandoffFact

BOT_ONLY = "(bot)"  # the team and intent key of cases no person was asked to join
HUMAN_REASON_EXCLUDED = frozenset({"transfer"})  # a transfer is people to people, not the assistant giving up
DIMENSIONS = ("day", "channel", "team", "intent")


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; compare everything as aware UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _seconds(start: datetime, end: datetime) -> float:
    return (_aware(end) - _aware(start)).total_seconds()


def _ratio(part: int, whole: int) -> float | None:
    """None rather than a misleading 0 when nothing was measured."""
    return round(part / whole, 4) if whole else None


def _avg(values: Sequence[float]) -> float | None:
    return round(fsum(values) / len(values), 2) if values else None


def bot_handoffs(case: CaseFact) -> list[tuple[HandoffFact, datetime]]:
    """Each time the assistant gave the case to people, with when its stretch with the assistant began."""
    found: list[tuple[HandoffFact, datetime]] = []
    since = case.created_at
    for handoff in case.handoffs:
        if handoff.direction == "to_bot":
            since = handoff.ended_at or handoff.queued_at
        elif handoff.reason not in HUMAN_REASON_EXCLUDED:
            found.append((handoff, since))
    return found


def first_response_seconds(handoff: HandoffFact) -> float | None:
    """From queueing to the first agent message after it."""
    if handoff.first_response_at is None:
        return None
    return _seconds(handoff.queued_at, handoff.first_response_at)


def abandoned_in_queue(handoff: HandoffFact) -> bool:
    """The customer was lost before any agent accepted the case."""
    return handoff.outcome == "abandoned" and handoff.accepted_at is None


def is_recontacted(case: CaseFact, later: Iterable[CaseFact], window: timedelta) -> bool:
    """Another case of the same customer, on any channel, opened within the window after this one closed."""
    if case.resolved_at is None:
        return False
    closed = _aware(case.resolved_at)
    return any(other.id != case.id and other.customer_id == case.customer_id
               and closed < _aware(other.created_at) <= closed + window for other in later)


def is_recontact(case: CaseFact, earlier: Iterable[CaseFact], window: timedelta) -> bool:
    """This case began within the window after another case of the same customer closed."""
    opened = _aware(case.created_at)
    return any(other.id != case.id and other.customer_id == case.customer_id and other.resolved_at is not None
               and _aware(other.resolved_at) < opened <= _aware(other.resolved_at) + window for other in earlier)


def by_customer(cases: Iterable[CaseFact]) -> dict[str, list[CaseFact]]:
    """Recontact checks only look at one customer's cases."""
    grouped: dict[str, list[CaseFact]] = defaultdict(list)
    for case in cases:
        grouped[case.customer_id].append(case)
    return grouped


def sla_met(handoff: HandoffFact, target_seconds: int) -> bool | None:
    """Answered within the channel's first-response target; abandoned in queue is a miss; still waiting is unknown."""
    seconds = first_response_seconds(handoff)
    if seconds is not None:
        return seconds <= target_seconds
    if abandoned_in_queue(handoff) or handoff.ended_at is not None:
        return False
    return None


@dataclass(frozen=True)
class CaseMeasures:
    """What one case contributes to every KPI, worked out once so grouping only adds numbers up."""

    assisted: bool
    reasons: tuple[str, ...]
    bot_turns: tuple[int, ...]
    bot_seconds: tuple[float, ...]
    queue_waits: tuple[float, ...]
    queue_done: int
    abandoned: int
    first_responses: tuple[float, ...]
    handle: tuple[float, ...]
    resolved: bool
    fcr: bool
    recontact: bool
    sla: tuple[tuple[str, bool], ...]
    csat: int | None


def measure(case: CaseFact, same_customer: Sequence[CaseFact], *, window: timedelta,
            sla: Mapping[str, int]) -> CaseMeasures:
    """One case's contribution; `same_customer` holds the customer's other cases for recontact checks."""
    to_people = bot_handoffs(case)
    human = case.to_human
    accepted = [h for h in human if h.accepted_at is not None]
    target = sla.get(case.channel)
    checks = [] if target is None else [sla_met(h, target) for h in human]
    responses = [first_response_seconds(h) for h in human]
    resolved = case.status == "resolved"
    return CaseMeasures(
        assisted=bool(human), reasons=tuple(h.reason for h, _ in to_people),
        bot_turns=tuple(h.bot_turns for h, _ in to_people),
        bot_seconds=tuple(_seconds(since, h.queued_at) for h, since in to_people),
        queue_waits=tuple(_seconds(h.queued_at, h.accepted_at) for h in accepted if h.accepted_at is not None),
        queue_done=sum(1 for h in human if h.accepted_at is not None or abandoned_in_queue(h)),
        abandoned=sum(1 for h in human if abandoned_in_queue(h)),
        first_responses=tuple(r for r in responses if r is not None),
        handle=tuple(_seconds(h.accepted_at, h.ended_at) for h in accepted
                     if h.accepted_at is not None and h.ended_at is not None),
        resolved=resolved, fcr=resolved and not is_recontacted(case, same_customer, window),
        recontact=is_recontact(case, same_customer, window),
        sla=tuple((case.channel, met) for met in checks if met is not None), csat=case.csat,
    )


def aggregate(measures: Sequence[CaseMeasures]) -> dict[str, Any]:
    """Every KPI for one group of cases, from their measures."""
    total = len(measures)
    assisted = sum(1 for m in measures if m.assisted)
    contained = total - assisted
    reasons: Counter[str] = Counter(reason for m in measures for reason in m.reasons)
    flat = lambda name: [value for m in measures for value in getattr(m, name)]  # noqa: E731
    queue_done, abandoned = sum(m.queue_done for m in measures), sum(m.abandoned for m in measures)
    resolved, fcr = sum(1 for m in measures if m.resolved), sum(1 for m in measures if m.fcr)
    recontacts = sum(1 for m in measures if m.recontact)
    sla_checks: dict[str, list[bool]] = defaultdict(list)
    for m in measures:
        for channel, met in m.sla:
            sla_checks[channel].append(met)
    attainment = {channel: _ratio(sum(checks), len(checks)) for channel, checks in sorted(sla_checks.items())}
    measured = [value for value in attainment.values() if value is not None]
    csat_bot = [float(m.csat) for m in measures if m.csat is not None and not m.assisted]
    csat_people = [float(m.csat) for m in measures if m.csat is not None and m.assisted]
    return {
        "cases": total, "contained": contained, "containment_rate": _ratio(contained, total),
        "handed_off": assisted, "handoff_rate": _ratio(assisted, total),
        "handoffs": sum(reasons.values()), "handoff_reasons": dict(sorted(reasons.items())),
        "avg_bot_turns_before_handoff": _avg(flat("bot_turns")),
        "avg_bot_seconds_before_handoff": _avg(flat("bot_seconds")),
        "avg_queue_wait_seconds": _avg(flat("queue_waits")),
        "abandoned_in_queue": abandoned, "queue_abandonment_rate": _ratio(abandoned, queue_done),
        "avg_first_response_seconds": _avg(flat("first_responses")),
        "avg_handle_seconds": _avg(flat("handle")),
        "resolved": resolved, "first_contact_resolutions": fcr, "fcr_rate": _ratio(fcr, resolved),
        "recontacts": recontacts, "recontact_rate": _ratio(recontacts, total),
        "sla_attainment": attainment,
        "sla_spread": round(max(measured) - min(measured), 4) if len(measured) > 1 else None,
        "csat_bot_only": _avg(csat_bot), "csat_assisted": _avg(csat_people),
        "csat_bot_only_responses": len(csat_bot), "csat_assisted_responses": len(csat_people),
    }


def compute(cases: Sequence[CaseFact], context: Sequence[CaseFact], *, window: timedelta,
            sla: Mapping[str, int]) -> dict[str, Any]:
    """Every KPI for one group of cases; `context` holds the customers' other cases for recontact checks."""
    customers = by_customer(context)
    return aggregate([measure(case, customers.get(case.customer_id, []), window=window, sla=sla)
                      for case in cases])


def key_function(dimension: str, timezone_name: str) -> Callable[[CaseFact], str]:
    """How a case is filed under a dimension: local day it began, its channel, first handoff's team and intent."""
    zone = ZoneInfo(timezone_name)
    if dimension == "day":
        return lambda case: _aware(case.created_at).astimezone(zone).date().isoformat()
    if dimension == "channel":
        return lambda case: case.channel
    if dimension == "team":
        return lambda case: (case.to_human[0].team or "") if case.assisted else BOT_ONLY
    if dimension == "intent":
        return lambda case: (case.to_human[0].intent or "") if case.assisted else BOT_ONLY
    raise ValueError(f"unknown dimension {dimension!r}")


def report(cases: Sequence[CaseFact], context: Sequence[CaseFact], *, window_hours: int,
           sla: Mapping[str, int], timezone_name: str = "UTC") -> dict[str, Any]:
    """The totals and one table per dimension (day, channel, team, intent); each case is measured once."""
    window = timedelta(hours=window_hours)
    customers = by_customer(context)
    measured = [(case, measure(case, customers.get(case.customer_id, []), window=window, sla=sla))
                for case in cases]
    tables: dict[str, list[dict[str, Any]]] = {}
    for dimension in DIMENSIONS:
        key = key_function(dimension, timezone_name)
        groups: dict[str, list[CaseMeasures]] = defaultdict(list)
        for case, measures in measured:
            groups[key(case)].append(measures)
        tables[dimension] = [{dimension: name, **aggregate(group)} for name, group in sorted(groups.items())]
    return {"total": aggregate([measures for _, measures in measured]), **tables}
