"""Staffing, pure: contacts offered to people per interval, their handle time, the agents Erlang C requires for
the channel's service-level target, the agents who were online, and a seasonal-average forecast of the next week.

Times are whole epoch seconds. The store hands over arrivals per quarter hour (every UTC offset in use is a
multiple of 15 minutes, so quarter hours nest in local 15-, 30- and 60-minute intervals) and online stretches;
this module adds them up per interval counted from the range's first local midnight."""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from handoff.reports.erlang import required_agents

QUARTER = 900  # seconds: the store's bucket
NOTHING = (0, 0, 0.0)  # an interval without contacts: offered, handled, handle seconds
HOUR = 3600
WEEK_SECONDS = 7 * 24 * HOUR
INTERVALS = (15, 30, 60)  # minutes an interval may last


@dataclass(frozen=True)
class Arrivals:
    """Transitions to people queued in one quarter hour on one channel for one team, and their handle time."""

    quarter: int  # epoch seconds // QUARTER
    channel: str
    team: str
    offered: int
    handled: int = 0  # accepted and ended: their handle time is measured
    handle_seconds: float = 0.0


@dataclass(frozen=True)
class OnlineStretch:
    """An agent online from `since` until `until` (epoch seconds), and the teams they take cases for."""

    teams: frozenset[str]
    since: int
    until: int


@dataclass(frozen=True)
class Target:
    """What a channel's staffing aims at: `service_level` of contacts answered within `answer_seconds`, no agent
    busier than `max_occupancy` on average."""

    channel: str
    service_level: float
    answer_seconds: int
    max_occupancy: float


@dataclass(frozen=True)
class Plan:
    """The report's span: measured intervals from `start` to `end`, forecast ones from `end` to `forecast_end`."""

    start: int
    end: int
    forecast_end: int
    interval_seconds: int
    zone: str
    weeks: int  # weeks the forecast averages
    default_aht: float  # seconds, where nothing was handled to measure it
    first_seen: int | None = None  # the first transition to people ever: weeks before it are no evidence

    def starts(self, until: int) -> range:
        """The interval starts from `start` up to `until`."""
        return range(self.start, until, self.interval_seconds)

    def interval_of(self, moment: int) -> int:
        """The start of the interval (of this plan's grid) a moment falls in."""
        return self.start + (moment - self.start) // self.interval_seconds * self.interval_seconds


def epoch_seconds(moment: datetime) -> int:
    """Whole epoch seconds of a stored moment (SQLite hands back naive UTC)."""
    return int((moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)).timestamp())


class Offsets:
    """The zone's UTC offsets over a span, read once per hour (transitions refined to the quarter hour), so that
    local wall clocks are arithmetic rather than a time-zone lookup per interval and week."""

    def __init__(self, zone: ZoneInfo, since: int, until: int) -> None:
        def offset(moment: int) -> int:
            shift = datetime.fromtimestamp(moment, zone).utcoffset()
            return int(shift.total_seconds()) if shift is not None else 0

        self.points, self.values = [since], [offset(since)]
        for hour in range(since + HOUR, until + HOUR, HOUR):
            if offset(hour) != self.values[-1]:
                moved = next(q for q in range(hour - HOUR + QUARTER, hour + 1, QUARTER)
                             if offset(q) != self.values[-1])
                self.points.append(moved)
                self.values.append(offset(moved))
        self.distinct = sorted(set(self.values))

    def at(self, moment: int) -> int:
        return self.values[max(0, bisect_right(self.points, moment) - 1)]

    def instant(self, wall: int) -> int | None:
        """The first instant whose local wall clock (as seconds) is `wall`; None when a DST change skipped it."""
        found = [wall - shift for shift in self.distinct if wall - shift + self.at(wall - shift) == wall]
        return min(found) if found else None


def same_time_weeks_before(moment: int, offsets: Offsets, weeks: int) -> list[int]:
    """The same local weekday and time 1..`weeks` weeks earlier (a DST change keeps the wall clock; an ambiguous
    time is its first occurrence), leaving out a local time that did not exist (skipped by a DST change)."""
    wall = moment + offsets.at(moment)
    found = (offsets.instant(wall - back * WEEK_SECONDS) for back in range(1, weeks + 1))
    return [instant for instant in found if instant is not None]


class Totals:
    """Offered, handled and handle seconds of one (channel, team) per interval start."""

    def __init__(self) -> None:
        self.by_start: dict[int, list[float]] = defaultdict(lambda: [0, 0, 0.0])
        self.handled = 0
        self.handle_seconds = 0.0

    def add(self, start: int, row: Arrivals) -> None:
        cell = self.by_start[start]
        cell[0] += row.offered
        cell[1] += row.handled
        cell[2] += row.handle_seconds
        self.handled += row.handled
        self.handle_seconds += row.handle_seconds

    def aht(self, default: float) -> float:
        """Mean handle time over everything read for this channel and team."""
        return self.handle_seconds / self.handled if self.handled else default


def arrivals_by_interval(plan: Plan, arrivals: Iterable[Arrivals]) -> dict[tuple[str, str], Totals]:
    """Quarter hours added up per (channel, team) and interval."""
    totals: dict[tuple[str, str], Totals] = defaultdict(Totals)
    for row in arrivals:
        totals[(row.channel, row.team)].add(plan.interval_of(row.quarter * QUARTER), row)
    return totals


def online_by_interval(plan: Plan, stretches: Iterable[OnlineStretch]) -> dict[str, dict[int, float]]:
    """Per team and measured interval, the mean number of its agents online (online seconds / interval seconds):
    each team's logins and logouts swept once in time order."""
    steps: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for stretch in stretches:
        since, until = max(stretch.since, plan.start), min(stretch.until, plan.end)
        if since < until:
            for team in stretch.teams:
                steps[team] += ((since, 1), (until, -1))
    size = plan.interval_seconds
    found = {}
    for team, moves in steps.items():
        seconds: dict[int, float] = defaultdict(float)
        online, last = 0, plan.start
        for moment, step in sorted(moves):
            while online and last < moment:  # the agents online since `last`, interval by interval
                start = plan.interval_of(last)
                stop = min(moment, start + size)
                seconds[start] += online * (stop - last)
                last = stop
            online, last = online + step, moment
        found[team] = {start: total / size for start, total in seconds.items()}
    return found


def evidence_weeks(plan: Plan, zone: ZoneInfo) -> dict[int, tuple[int, ...]]:
    """Per interval of the range and the forecast week: the intervals at the same local weekday and time in the
    `plan.weeks` weeks before it, leaving out those before the data began (no evidence, not zero contacts)."""
    first = plan.first_seen
    offsets = Offsets(zone, plan.start - (plan.weeks + 1) * WEEK_SECONDS, plan.forecast_end)
    return {start: tuple(plan.interval_of(moment) for moment in same_time_weeks_before(start, offsets, plan.weeks)
                         if first is not None and moment + plan.interval_seconds > first)
            for start in plan.starts(plan.forecast_end)}


def seasonal_forecast(by_start: Mapping[int, Sequence[float]], weeks: Sequence[int], default_aht: float
                      ) -> tuple[float | None, float]:
    """The mean offered over those weeks' intervals (a week without contacts counts as 0), and the handle time
    measured in them (else `default_aht`); None without a week of evidence."""
    if not weeks:
        return None, default_aht
    cells = [cell for cell in map(by_start.get, weeks) if cell is not None]
    if not cells:
        return 0.0, default_aht
    handled = sum(cell[1] for cell in cells)
    return sum(cell[0] for cell in cells) / len(weeks), sum(cell[2] for cell in cells) / handled if handled \
        else default_aht


def staffing_intervals(plan: Plan, arrivals: Iterable[Arrivals], stretches: Iterable[OnlineStretch],
                       targets: Mapping[str, Target]) -> list[dict[str, Any]]:
    """Every interval of the range and of the forecast week, per (channel, team) with contacts: offered, the
    handle time used, the agents Erlang C requires, the agents online and the forecast. Quiet intervals (nothing
    offered, nobody online, nothing forecast) are left out."""
    zone = ZoneInfo(plan.zone)
    totals = arrivals_by_interval(plan, arrivals)
    online = online_by_interval(plan, stretches)
    weeks = evidence_weeks(plan, zone)
    labels = {start: datetime.fromtimestamp(start, timezone.utc).astimezone(zone).isoformat() for start in weeks}
    read_by: dict[int, list[int]] = defaultdict(list)  # an interval → the intervals whose forecast reads it
    for start, earlier in weeks.items():
        for week in earlier:
            read_by[week].append(start)
    rows: list[dict[str, Any]] = []
    for (channel, team), cells in sorted(totals.items()):
        team_online = online.get(team, {})
        # only where something was offered, someone was online, or a forecast reads something offered
        starts = {start for start in cells.by_start if plan.start <= start < plan.end} | set(team_online)
        starts.update(start for offered in cells.by_start for start in read_by.get(offered, ()))
        rows += _rows_of(plan, (channel, team), cells, targets[channel], team_online, weeks, labels, sorted(starts))
    return rows


def _rows_of(plan: Plan, key: tuple[str, str], cells: Totals, target: Target, team_online: Mapping[int, float],
             weeks: Mapping[int, Sequence[int]], labels: Mapping[int, str], starts: Sequence[int]
             ) -> list[dict[str, Any]]:
    """One channel and team's intervals, of those `starts` that are not quiet (the hot loop: 100,000 rows)."""
    channel, team = key
    key_aht, by_start, end, size = cells.aht(plan.default_aht), cells.by_start, plan.end, plan.interval_seconds
    level, answer, occupancy = target.service_level, target.answer_seconds, target.max_occupancy
    rows = []
    for start in starts:
        forecast, forecast_aht = seasonal_forecast(by_start, weeks[start], key_aht)
        if start < end:
            offered, handled, handle_seconds = by_start.get(start, NOTHING)
            present = team_online.get(start, 0.0)
            if not (offered or present or forecast):
                continue
            aht, expected, shown, online = handle_seconds / handled if handled else key_aht, offered, int(offered), \
                round(present, 2)
        elif forecast:
            aht, expected, shown, online = forecast_aht, forecast, None, None
        else:
            continue
        rows.append({"start": labels[start], "channel": channel, "team": team, "offered": shown,
                     "aht_seconds": round(aht, 1),
                     "required_agents": required_agents(expected, aht, size, target=level, answer_seconds=answer,
                                                        max_occupancy=occupancy),
                     "online_agents": online, "forecast": None if forecast is None else round(forecast, 2)})
    return rows


def online_stretches(changes: Iterable[tuple[str, int, bool]], teams: Mapping[str, Iterable[str]],
                     until: int) -> list[OnlineStretch]:
    """Each agent's online stretches from their presence changes (agent, epoch seconds, online?) in time order;
    one still online at the end is online until `until`."""
    since: dict[str, int] = {}
    stretches = []
    for agent, moment, is_online in changes:
        if is_online:
            since.setdefault(agent, moment)
        elif agent in since:
            stretches.append(OnlineStretch(frozenset(teams.get(agent, ())), since.pop(agent), moment))
    stretches += [OnlineStretch(frozenset(teams.get(agent, ())), began, until) for agent, began in since.items()
                  if began < until]
    return stretches
