"""Staffing, pure: contacts offered to people per interval, their handle time, the agents Erlang C requires for
the channel's service-level target, the agents who were online, and a seasonal-average forecast of the next week.

Times are whole epoch seconds. The store hands over arrivals per quarter hour (every UTC offset in use is a
multiple of 15 minutes, so quarter hours nest in local 15-, 30- and 60-minute intervals) and online stretches;
this module adds them up per interval counted from the range's first local midnight."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from handoff.reports.erlang import required_agents

QUARTER = 900  # seconds: the store's bucket
WEEK = timedelta(days=7)
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


def same_time_weeks_before(moment: int, zone: ZoneInfo, weeks: int) -> list[int]:
    """The same local weekday and time 1..`weeks` weeks earlier (a DST change keeps the wall clock), leaving out
    a local time that did not exist (skipped by a DST change)."""
    wall = datetime.fromtimestamp(moment, zone).replace(tzinfo=None)
    found = []
    for back in range(1, weeks + 1):
        earlier = wall - back * WEEK
        instant = int(earlier.replace(tzinfo=zone).timestamp())
        if datetime.fromtimestamp(instant, zone).replace(tzinfo=None) == earlier:
            found.append(instant)
    return found


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
    """Per team and measured interval, the mean number of its agents online (online seconds / interval seconds)."""
    seconds: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    size = plan.interval_seconds
    for stretch in stretches:
        since, until = max(stretch.since, plan.start), min(stretch.until, plan.end)
        begin = plan.interval_of(since) if since < until else until
        for start in range(begin, until, size):
            overlap = min(until, start + size) - max(since, start)
            for team in stretch.teams:
                seconds[team][start] += overlap
    return {team: {start: total / size for start, total in by_start.items()} for team, by_start in seconds.items()}


def seasonal_forecast(plan: Plan, totals: Totals, earlier: Sequence[int], default_aht: float
                      ) -> tuple[float | None, float]:
    """The mean offered at the same local weekday and time over the weeks before (those after the data began),
    and the handle time measured then (else `default_aht`); None when there is no such week."""
    weeks = [moment for moment in earlier if plan.first_seen is not None
             and moment + plan.interval_seconds > plan.first_seen]
    if not weeks:
        return None, default_aht
    cells = [totals.by_start.get(plan.interval_of(moment), (0, 0, 0.0)) for moment in weeks]
    handled = sum(cell[1] for cell in cells)
    aht = sum(cell[2] for cell in cells) / handled if handled else default_aht
    return sum(cell[0] for cell in cells) / len(weeks), aht


def staffing_intervals(plan: Plan, arrivals: Iterable[Arrivals], stretches: Iterable[OnlineStretch],
                       targets: Mapping[str, Target]) -> list[dict[str, Any]]:
    """Every interval of the range and of the forecast week, per (channel, team) with contacts: offered, the
    handle time used, the agents Erlang C requires, the agents online and the forecast. Quiet intervals (nothing
    offered, nobody online, nothing forecast) are left out."""
    zone = ZoneInfo(plan.zone)
    totals = arrivals_by_interval(plan, arrivals)
    online = online_by_interval(plan, stretches)
    earlier = {start: same_time_weeks_before(start, zone, plan.weeks) for start in plan.starts(plan.forecast_end)}
    rows: list[dict[str, Any]] = []
    for (channel, team), cells in sorted(totals.items()):
        rows += _rows_of(plan, zone, (channel, team), cells, targets[channel], online.get(team, {}), earlier)
    return rows


def _rows_of(plan: Plan, zone: ZoneInfo, key: tuple[str, str], cells: Totals, target: Target,
             team_online: Mapping[int, float], earlier: Mapping[int, Sequence[int]]) -> list[dict[str, Any]]:
    """One channel and team's intervals."""
    channel, team = key
    key_aht = cells.aht(plan.default_aht)

    def agents(offered: float, aht: float) -> int:
        return required_agents(offered, aht, plan.interval_seconds, target=target.service_level,
                               answer_seconds=target.answer_seconds, max_occupancy=target.max_occupancy)

    rows = []
    for start in plan.starts(plan.forecast_end):
        forecast, forecast_aht = seasonal_forecast(plan, cells, earlier[start], key_aht)
        if start < plan.end:
            offered, handled, handle_seconds = cells.by_start.get(start, (0, 0, 0.0))
            present = team_online.get(start, 0.0)
            if not offered and not present and not forecast:
                continue
            aht = handle_seconds / handled if handled else key_aht
            rows.append(_row(start, zone, channel, team, int(offered), aht, agents(offered, aht),
                             round(present, 2), forecast))
        elif forecast:
            rows.append(_row(start, zone, channel, team, None, forecast_aht, agents(forecast, forecast_aht),
                             None, forecast))
    return rows


def _row(start: int, zone: ZoneInfo, channel: str, team: str, offered: int | None, aht: float, required: int,
         online: float | None, forecast: float | None) -> dict[str, Any]:
    moment = datetime.fromtimestamp(start, timezone.utc).astimezone(zone)
    return {"start": moment.isoformat(), "channel": channel, "team": team, "offered": offered,
            "aht_seconds": round(aht, 1), "required_agents": required, "online_agents": online,
            "forecast": None if forecast is None else round(forecast, 2)}


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
