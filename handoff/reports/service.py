"""The service KPIs with industry definitions (README: Service KPIs), case by case over facts held in memory and
then as arithmetic over per-(day, channel) cells: durable containment, service level, ASA, AHT, one-contact
resolution, the abandonment split (frustration, saturation, short) and the SLA spread per day. The database returns
the same cells (handoff/reports/service_queries.py); the tests check both agree. Occupancy is in occupancy.py."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from handoff.core.handoffs import WITHDRAWN
from handoff.core.merge_rules import MERGED
from handoff.reports.facts import CaseFact, HandoffFact
from handoff.reports.measures import (
    Story,
    _aware,
    abandoned_in_queue,
    continues_on,
    elapsed_us,
    is_recontact,
    is_recontacted,
)

MICROS = 1_000_000
FRUSTRATING_FALLBACKS = 2  # the assistant did not understand twice (or asked again for a fact it had been told)
ABANDON_KINDS = ("frustration", "saturation", "short", "within_target")


class ServiceCell(NamedTuple):
    """Sums for one (local day the case began, its channel); durations in whole microseconds."""

    day: str
    channel: str
    cases: int = 0
    bot_only: int = 0  # raw containment: no transition to people in the case's story
    durable: int = 0  # … and its customer reached people on no case within the follow-up window
    resolved: int = 0
    one_contact: int = 0  # resolved in one contact: see one_contact
    frustration: int = 0  # left while the assistant held the case after two fallbacks or a re-ask
    answered: int = 0  # transitions to people accepted by an agent
    answered_in_target: int = 0  # … within the channel's sla.answer
    sl_offered: int = 0  # on channels with an sla.answer: answered, or abandoned in queue but not short
    wait_us: int = 0  # queueing to acceptance, of the answered
    handled: int = 0  # accepted and ended
    handle_us: int = 0
    queue_abandons: int = 0  # the customer left before anyone accepted
    short_abandons: int = 0  # … within short_abandon_seconds
    saturation_abandons: int = 0  # … after waiting past the channel's sla.answer


CELL_KEY = ServiceCell._fields[:2]
CELL_SUMS = ServiceCell._fields[2:]


@dataclass(frozen=True)
class Targets:
    """What the definitions are measured against (operations.yml), and the moment of the report."""

    answer: Mapping[str, int]  # channel → sla.answer seconds: answered within it, abandoned past it
    window_hours: int  # follow_up_window_hours
    short_abandon_seconds: int
    assistant_silence_minutes: int  # a customer silent this long while the assistant holds the case has left
    now: datetime


def reached_people(case: CaseFact) -> bool:
    """Any transition to people on the case itself."""
    return bool(case.to_human)


def durably_contained(story: Story, same_customer: Iterable[CaseFact], window: timedelta) -> bool:
    """Bot-only, and no other case of the customer, on any channel, opened after it and at most the window after it
    closed (or opened, when still open), reached people."""
    case = story.case
    if story.to_human:
        return False
    opened = _aware(case.created_at)
    until = _aware(case.resolved_at or case.created_at) + window
    return not any(other.id != case.id and reached_people(other) and opened < _aware(other.created_at) <= until
                   for other in same_customer)


def one_contact(story: Story, same_customer: Sequence[CaseFact], window: timedelta) -> bool:
    """Resolved at the customer's one contact: not a recontact, not recontacted within the window on any channel,
    no case merged into it (a second contact), and the customer wrote or called on one channel only."""
    case = story.case
    return (case.status == "resolved" and len(story.members) == 1 and case.inbound_channels <= 1
            and not is_recontact(case, same_customer, window) and not is_recontacted(case, same_customer, window))


def left_frustrated(story: Story, targets: Targets) -> bool:
    """The assistant still holds the case, its customer has been silent for assistant_silence_minutes, and it
    had not understood them twice (fallbacks) or had asked again for something they had told."""
    case = story.case
    silent_since = _aware(case.last_customer_at or case.created_at)
    struggled = (sum(member.fallbacks for member in story.members) >= FRUSTRATING_FALLBACKS
                 or any(member.reask_turns > 0 for member in story.members))
    return (case.status == "bot" and struggled
            and silent_since <= _aware(targets.now) - timedelta(minutes=targets.assistant_silence_minutes))


def queue_abandon_kind(handoff: HandoffFact, target_seconds: int | None, short_seconds: int) -> str | None:
    """Why a customer left people's queue: short (within short_abandon_seconds), saturation (past the channel's
    sla.answer), within_target (in between); None when they did not leave it unanswered."""
    if not abandoned_in_queue(handoff):
        return None
    waited = elapsed_us(handoff.queued_at, handoff.ended_at or handoff.queued_at)
    if waited < short_seconds * MICROS:
        return "short"
    if target_seconds is not None and waited > target_seconds * MICROS:
        return "saturation"
    return "within_target"


def offered_to_people(handoff: HandoffFact) -> bool:
    """A transition people had to answer: not withdrawn (the assistant was back first) nor merged unanswered."""
    return handoff.outcome not in (WITHDRAWN, MERGED)


def transition_sums(handoff: HandoffFact, target_seconds: int | None, short_seconds: int) -> dict[str, int]:
    """What one transition to people adds to its case's cell."""
    sums: dict[str, int] = {}
    if handoff.accepted_at is not None:
        waited = elapsed_us(handoff.queued_at, handoff.accepted_at)
        sums |= {"answered": 1, "wait_us": waited, "sl_offered": int(target_seconds is not None),
                 "answered_in_target": int(target_seconds is not None and waited <= target_seconds * MICROS)}
        if handoff.ended_at is not None:
            sums |= {"handled": 1, "handle_us": elapsed_us(handoff.accepted_at, handoff.ended_at)}
    kind = queue_abandon_kind(handoff, target_seconds, short_seconds)
    if kind is not None:
        sums |= {"queue_abandons": 1, "short_abandons": int(kind == "short"),
                 "saturation_abandons": int(kind == "saturation"),
                 "sl_offered": int(target_seconds is not None and kind != "short")}
    return sums


def case_sums(story: Story, same_customer: Sequence[CaseFact], targets: Targets) -> dict[str, int]:
    """What the case itself adds to its cell; `same_customer` holds every case of the customer (those merged into
    another too: reaching people there is reaching people), recontacts look at cases of their own only."""
    window = timedelta(hours=targets.window_hours)
    own = [other for other in same_customer if other.merged_into is None]
    bot_only = not story.to_human
    return {"cases": 1, "bot_only": int(bot_only),
            "durable": int(bot_only and durably_contained(story, same_customer, window)),
            "resolved": int(story.case.status == "resolved"),
            "one_contact": int(one_contact(story, own, window)),
            "frustration": int(left_frustrated(story, targets))}


def cells(cases: Sequence[CaseFact], context: Sequence[CaseFact], targets: Targets,
          timezone_name: str = "UTC") -> list[ServiceCell]:
    """The cells of `cases`, sorted by key; `context` holds the customers' other cases and those merged into them.
    A case merged into another counts in the kept case's story, its transitions on the kept case's cell."""
    zone = ZoneInfo(timezone_name)
    known = {case.id: case for case in (*context, *cases)}
    merged: dict[str, list[CaseFact]] = defaultdict(list)
    for case_id, kept in continues_on(known.values()).items():
        merged[kept].append(known[case_id])
    customers: dict[str, list[CaseFact]] = defaultdict(list)
    for other in context:
        customers[other.customer_id].append(other)
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(CELL_SUMS, 0))
    for case in cases:
        if case.merged_into is not None:
            continue
        story = Story(case, (case, *merged[case.id]))
        key = (_aware(case.created_at).astimezone(zone).date().isoformat(), case.channel)
        sums = [case_sums(story, customers[case.customer_id], targets)]
        for member in story.members:
            sums += [transition_sums(handoff, targets.answer.get(case.channel), targets.short_abandon_seconds)
                     for handoff in member.to_human if offered_to_people(handoff)]
        for part in sums:
            for name, value in part.items():
                totals[key][name] += value
    return [ServiceCell(day, channel, **sums) for (day, channel), sums in sorted(totals.items())]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean_seconds(total_us: int, count: int) -> float | None:
    return round(total_us / (count * MICROS), 2) if count else None


def summed(group: Iterable[ServiceCell]) -> dict[str, int]:
    """Every sum of a group of cells."""
    found = dict.fromkeys(CELL_SUMS, 0)
    for cell in group:
        for name in CELL_SUMS:
            found[name] += getattr(cell, name)
    return found


def service_level(s: Mapping[str, int]) -> float | None:
    """Answered within target / offered, offered = answered + abandoned in queue − short abandons (transitions of
    channels with an sla.answer only: None where none has one)."""
    return _ratio(s["answered_in_target"], s["sl_offered"])


def abandonment(s: Mapping[str, int]) -> dict[str, int]:
    """Why customers left: the assistant's case (frustration) or people's queue (saturation, short, within)."""
    within = s["queue_abandons"] - s["short_abandons"] - s["saturation_abandons"]
    return {"frustration": s["frustration"], "saturation": s["saturation_abandons"], "short": s["short_abandons"],
            "within_target": within}


def figures(group: Sequence[ServiceCell]) -> dict[str, Any]:
    """Every service KPI of one group of cells."""
    s = summed(group)
    offered = s["answered"] + s["queue_abandons"] - s["short_abandons"]
    return {"cases": s["cases"], "contained": s["bot_only"], "containment_rate": _ratio(s["bot_only"], s["cases"]),
            "durably_contained": s["durable"], "durable_containment_rate": _ratio(s["durable"], s["cases"]),
            "offered": offered, "answered": s["answered"], "answered_in_target": s["answered_in_target"],
            "short_abandons": s["short_abandons"], "service_level": service_level(s),
            "asa_seconds": _mean_seconds(s["wait_us"], s["answered"]),
            "aht_seconds": _mean_seconds(s["handle_us"], s["handled"]),
            "resolved": s["resolved"], "one_contact_resolutions": s["one_contact"],
            "one_contact_resolution_rate": _ratio(s["one_contact"], s["resolved"]),
            "abandonment": abandonment(s)}


def spread(levels: Mapping[str, float | None]) -> float | None:
    """Best minus worst channel; None unless two channels were measured."""
    measured = [value for value in levels.values() if value is not None]
    return round(max(measured) - min(measured), 4) if len(measured) > 1 else None


def report(service_cells: Sequence[ServiceCell]) -> dict[str, Any]:
    """The totals, one row per channel, and the service level per channel day by day with its spread."""
    channels: dict[str, list[ServiceCell]] = defaultdict(list)
    days: dict[str, dict[str, list[ServiceCell]]] = defaultdict(lambda: defaultdict(list))
    for cell in service_cells:
        channels[cell.channel].append(cell)
        days[cell.day][cell.channel].append(cell)
    trend = []
    for day, by_channel in sorted(days.items()):
        levels = {channel: service_level(summed(group)) for channel, group in sorted(by_channel.items())}
        trend.append({"day": day, "service_level": levels, "spread": spread(levels)})
    return {"total": figures(service_cells),
            "channel": [{"channel": name, **figures(group)} for name, group in sorted(channels.items())],
            "trend": trend}
