"""The KPI definitions case by case, as pure Python over facts held in memory.

The dashboard asks the database for the same cells (handoff/reports/queries.py); the tests check both give
identical cells, so this module is the readable specification of what the SQL measures."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from handoff.core.handoffs import WITHDRAWN
from handoff.reports.facts import BOT_ONLY, CELL_SUMS, TRANSFER, CaseFact, Cell, HandoffFact

MICROSECOND = timedelta(microseconds=1)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; compare everything as aware UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def elapsed_us(start: datetime, end: datetime) -> int:
    """Whole microseconds from start to end: exact, so sums do not depend on the order they are added in."""
    return (_aware(end) - _aware(start)) // MICROSECOND


def bot_handoffs(case: CaseFact) -> list[tuple[HandoffFact, datetime]]:
    """Each time the assistant gave the case to people, with when its stretch with the assistant began."""
    found: list[tuple[HandoffFact, datetime]] = []
    since = case.created_at
    for handoff in case.handoffs:
        if handoff.direction == "to_bot":
            since = handoff.ended_at or handoff.queued_at
        elif handoff.reason != TRANSFER:
            found.append((handoff, since))
    return found


def first_response_us(handoff: HandoffFact) -> int | None:
    """From queueing to the first agent message after it."""
    if handoff.first_response_at is None:
        return None
    return elapsed_us(handoff.queued_at, handoff.first_response_at)


def abandoned_in_queue(handoff: HandoffFact) -> bool:
    """The customer was lost before any agent accepted the case."""
    return handoff.outcome == "abandoned" and handoff.accepted_at is None


def sla_met(handoff: HandoffFact, target_seconds: int) -> bool | None:
    """Answered within the channel's first-response target; abandoned in queue is a miss; still waiting is unknown;
    withdrawn (the assistant was back before any person took the case) is not people's to meet."""
    response = first_response_us(handoff)
    if response is not None:
        return response <= target_seconds * 1_000_000
    if handoff.outcome == WITHDRAWN:
        return None
    if abandoned_in_queue(handoff) or handoff.ended_at is not None:
        return False
    return None


def is_recontacted(case: CaseFact, others: Iterable[CaseFact], window: timedelta) -> bool:
    """Another case of the same customer, on any channel, opened within the window after this one closed."""
    if case.resolved_at is None:
        return False
    closed = _aware(case.resolved_at)
    return any(other.id != case.id and other.customer_id == case.customer_id
               and closed < _aware(other.created_at) <= closed + window for other in others)


def is_recontact(case: CaseFact, others: Iterable[CaseFact], window: timedelta) -> bool:
    """This case began within the window after another case of the same customer closed."""
    opened = _aware(case.created_at)
    return any(other.id != case.id and other.customer_id == case.customer_id and other.resolved_at is not None
               and _aware(other.resolved_at) < opened <= _aware(other.resolved_at) + window for other in others)


def cell_key(case: CaseFact, zone: ZoneInfo) -> tuple[str, str, str, str]:
    """Local day the case began, its channel, and the team and intent of its first transition to people."""
    day = _aware(case.created_at).astimezone(zone).date().isoformat()
    if not case.assisted:
        return day, case.channel, BOT_ONLY, BOT_ONLY
    first = case.to_human[0]
    return day, case.channel, first.team or "", first.intent or ""


def case_sums(case: CaseFact, same_customer: Sequence[CaseFact], window: timedelta) -> dict[str, int]:
    """What the case itself adds to its cell."""
    resolved = case.status == "resolved"
    prefix = "csat_assisted" if case.assisted else "csat_bot"
    sums = {"cases": 1, "assisted": int(case.assisted), "resolved": int(resolved),
            "fcr": int(resolved and not is_recontacted(case, same_customer, window)),
            "recontacts": int(is_recontact(case, same_customer, window)), "reasked": int(case.reask_turns > 0)}
    if case.csat is not None:
        sums |= {f"{prefix}_sum": case.csat, f"{prefix}_responses": 1}
    return sums


def handoff_sums(case: CaseFact, handoff: HandoffFact, since: datetime | None,
                 target_seconds: int | None) -> dict[str, int]:
    """What one transition to people adds to its cell; `since` is set for the assistant's own handoffs."""
    sums: dict[str, int] = {}
    if since is not None:
        sums |= {"handoffs": 1, "bot_turns": handoff.bot_turns, "bot_us": elapsed_us(since, handoff.queued_at)}
    if handoff.accepted_at is not None:
        sums |= {"waits": 1, "wait_us": elapsed_us(handoff.queued_at, handoff.accepted_at), "queue_done": 1}
        if handoff.ended_at is not None:
            sums |= {"handled": 1, "handle_us": elapsed_us(handoff.accepted_at, handoff.ended_at)}
    elif abandoned_in_queue(handoff):
        sums |= {"queue_done": 1, "abandoned": 1}
    response = first_response_us(handoff)
    if response is not None:
        sums |= {"responses": 1, "response_us": response}
    met = None if target_seconds is None else sla_met(handoff, target_seconds)
    if met is not None:
        sums |= {"sla_checks": 1, "sla_met": int(met)}
    return sums


def cells(cases: Sequence[CaseFact], context: Sequence[CaseFact], *, window_hours: int,
          sla: Mapping[str, int], timezone_name: str = "UTC") -> list[Cell]:
    """The cells of `cases`, sorted by key; `context` holds the customers' other cases for recontact checks."""
    zone, window = ZoneInfo(timezone_name), timedelta(hours=window_hours)
    customers: dict[str, list[CaseFact]] = defaultdict(list)
    for other in context:
        customers[other.customer_id].append(other)
    totals: dict[tuple[str, str, str, str, str | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        CELL_SUMS, 0))

    def add(key: tuple[str, str, str, str, str | None], sums: dict[str, int]) -> None:
        target = totals[key]
        for name, value in sums.items():
            target[name] += value

    for case in cases:
        key = cell_key(case, zone)
        human = case.to_human
        add((*key, human[0].reason if human else None), case_sums(case, customers[case.customer_id], window))
        starts = {id(handoff): since for handoff, since in bot_handoffs(case)}
        for handoff in human:
            add((*key, handoff.reason), handoff_sums(case, handoff, starts.get(id(handoff)), sla.get(case.channel)))
    ordered = sorted(totals.items(), key=lambda item: _sortable(item[0]))
    return [Cell(day, channel, team, intent, reason, **sums) for (day, channel, team, intent, reason), sums in ordered]


def _sortable(key: tuple[str, str, str, str, str | None]) -> tuple[str, ...]:
    return tuple(part or "" for part in key)
