"""The KPI definitions case by case, as pure Python over facts held in memory.

The dashboard asks the database for the same cells (handoff/reports/queries.py); the tests check both give
identical cells, so this module is the readable specification of what the SQL measures. A case merged into another
is no case of its own: its transitions and re-asks are part of the kept case's story (Story)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from handoff.core.handoffs import WITHDRAWN
from handoff.core.merge_rules import MERGED
from handoff.reports.facts import (
    BOT_ONLY,
    CELL_SUMS,
    COMMITMENT_OUTCOMES,
    OVERFLOW,
    OVERFLOW_CHOICES,
    TRANSFER,
    CaseFact,
    Cell,
    HandoffFact,
)

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
    withdrawn (the assistant was back before any person took the case) or merged unanswered (the conversation went on
    in the kept case, measured there) is not people's to meet."""
    response = first_response_us(handoff)
    if response is not None:
        return response <= target_seconds * 1_000_000
    if handoff.outcome in (WITHDRAWN, MERGED):
        return None
    if abandoned_in_queue(handoff) or handoff.ended_at is not None:
        return False
    return None


@dataclass(frozen=True)
class Story:
    """A case counted on its own, with every case merged into it: one conversation, one case in the KPIs."""

    case: CaseFact
    members: tuple[CaseFact, ...]  # the case itself first, then the cases merged into it (merges followed)

    @property
    def to_human(self) -> tuple[HandoffFact, ...]:
        """Every transition to people of the story, earliest first (the case's own first on a tie)."""
        return tuple(sorted((h for member in self.members for h in member.to_human), key=lambda h: _aware(h.queued_at)))


def continues_on(cases: Iterable[CaseFact]) -> dict[str, str]:
    """Each case merged into another, with the case its conversation continues on (merges followed to the end)."""
    into = {case.id: case.merged_into for case in cases if case.merged_into}
    found: dict[str, str] = {}
    for case_id, target in into.items():
        seen = {case_id}
        while target in into and target not in seen:
            seen.add(target)
            target = into[target]
        found[case_id] = target
    return found


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


def cell_key(story: Story, zone: ZoneInfo) -> tuple[str, str, str, str]:
    """Local day the case began, its channel, and the team and intent of its story's first transition to people."""
    case, human = story.case, story.to_human
    day = _aware(case.created_at).astimezone(zone).date().isoformat()
    if not human:
        return day, case.channel, BOT_ONLY, BOT_ONLY
    return day, case.channel, human[0].team or "", human[0].intent or ""


def case_sums(story: Story, same_customer: Sequence[CaseFact], window: timedelta) -> dict[str, int]:
    """What the case itself adds to its cell: assisted or re-asked when anything of its story was."""
    case, assisted = story.case, bool(story.to_human)
    resolved = case.status == "resolved"
    prefix = "csat_assisted" if assisted else "csat_bot"
    sums = {"cases": 1, "assisted": int(assisted), "resolved": int(resolved),
            "fcr": int(resolved and not is_recontacted(case, same_customer, window)),
            "recontacts": int(is_recontact(case, same_customer, window)),
            "reasked": int(any(member.reask_turns > 0 for member in story.members))}
    if case.csat is not None:
        sums |= {f"{prefix}_sum": case.csat, f"{prefix}_responses": 1}
    return sums


def handoff_sums(case: CaseFact, handoff: HandoffFact, since: datetime | None,
                 target_seconds: int | None) -> dict[str, int]:
    """What one transition to people adds to its cell; `since` is set for the assistant's own handoffs."""
    sums: dict[str, int] = {}
    if since is not None:
        sums |= {"handoffs": 1, "bot_turns": handoff.bot_turns, "bot_us": elapsed_us(since, handoff.queued_at)}
    if handoff.reason != TRANSFER and handoff.decision == OVERFLOW:  # offered the ways out, and what they chose
        sums["overflowed"] = 1
        if handoff.overflow_choice in OVERFLOW_CHOICES:
            sums[f"chose_{handoff.overflow_choice}"] = 1
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
    """The cells of `cases`, sorted by key; `context` holds the customers' other cases for recontact checks and the
    cases merged into them (wherever they began). A case merged into another counts only in the kept case's story."""
    zone, window = ZoneInfo(timezone_name), timedelta(hours=window_hours)
    known = {case.id: case for case in (*context, *cases)}
    merged: dict[str, list[CaseFact]] = defaultdict(list)
    for case_id, kept in continues_on(known.values()).items():
        merged[kept].append(known[case_id])
    customers: dict[str, list[CaseFact]] = defaultdict(list)
    for other in context:
        if other.merged_into is None:  # no case of its own: it neither returns nor is returned to
            customers[other.customer_id].append(other)
    totals: dict[tuple[str, str, str, str, str | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        CELL_SUMS, 0))

    def add(key: tuple[str, str, str, str, str | None], sums: dict[str, int]) -> None:
        target = totals[key]
        for name, value in sums.items():
            target[name] += value

    for case in cases:
        if case.merged_into is not None:
            continue
        story = Story(case, (case, *merged[case.id]))
        key, human = cell_key(story, zone), story.to_human
        add((*key, human[0].reason if human else None), case_sums(story, customers[case.customer_id], window))
        for member in story.members:  # each transition measured on its own case's timeline, counted on this cell
            starts = {id(handoff): since for handoff, since in bot_handoffs(member)}
            for handoff in member.to_human:
                add((*key, handoff.reason),
                    handoff_sums(member, handoff, starts.get(id(handoff)), sla.get(case.channel)))
    ordered = sorted(totals.items(), key=lambda item: _sortable(item[0]))
    return [Cell(day, channel, team, intent, reason, **sums) for (day, channel, team, intent, reason), sums in ordered]


def _sortable(key: tuple[str, str, str, str, str | None]) -> tuple[str, ...]:
    return tuple(part or "" for part in key)


def commitment_outcome(status: str, kept_at: datetime | None, due_at: datetime, now: datetime) -> str:
    """One promise at `now`: kept_on_time (kept no later than due), kept_late, broken, overdue (open, due
    passed) or pending (open, not due yet)."""
    if status == "kept":
        return "kept_on_time" if kept_at is not None and _aware(kept_at) <= _aware(due_at) else "kept_late"
    if status == "broken":
        return "broken"
    return "overdue" if _aware(due_at) <= _aware(now) else "pending"


def commitment_counts(commitments: Iterable[tuple[str, datetime | None, datetime]], start: datetime,
                      end: datetime, now: datetime) -> dict[str, int]:
    """(status, kept_at, due_at) of each promise; those due within [start, end) counted by outcome."""
    counts = dict.fromkeys(COMMITMENT_OUTCOMES, 0)
    for status, kept_at, due_at in commitments:
        if _aware(start) <= _aware(due_at) < _aware(end):
            counts[commitment_outcome(status, kept_at, due_at, now)] += 1
    return counts
