"""Staffing's arithmetic (reports/staffing.py): the seasonal forecast on a synthetic series with a known weekly
pattern (across a DST change), averages of unequal weeks, weeks before the data began left out, online agents per
interval from presence stretches, quiet intervals left out."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handoff.reports.erlang import required_agents
from handoff.reports.staffing import (
    QUARTER,
    Arrivals,
    Offsets,
    OnlineStretch,
    Plan,
    Target,
    online_by_interval,
    online_stretches,
    same_time_weeks_before,
    staffing_intervals,
)

ZONE = ZoneInfo("America/New_York")  # DST ends on Sunday 2026-11-01
MONDAY = date(2026, 11, 9)
HOUR = 3600
VOICE = {"voice": Target("voice", 0.8, 20, 0.85)}


def instant(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime.combine(day, time(hour, minute), ZONE).timestamp())


def pattern(day: date, hour: int) -> int:
    """Contacts per local hour: by weekday and hour, none at night."""
    return 0 if hour < 7 or hour > 20 else (day.weekday() + 1) * (hour % 5) + 2


def weekly_series(first: date, days: int, extra: int = 0) -> list[Arrivals]:
    """`days` days of the pattern from `first` (plus `extra` on every hour), all of an hour in its first quarter."""
    rows = []
    for number in range(days):
        day = first + timedelta(days=number)
        for hour in range(24):
            if pattern(day, hour):
                rows.append(Arrivals(instant(day, hour) // QUARTER, "voice", "care", pattern(day, hour) + extra,
                                     pattern(day, hour), pattern(day, hour) * 240.0))
    return rows


def plan(first_seen: int | None, weeks: int = 4, interval: int = HOUR) -> Plan:
    start, end = instant(MONDAY, 0), instant(MONDAY + timedelta(days=1), 0)
    return Plan(start, end, instant(MONDAY + timedelta(days=8), 0), interval, ZONE.key, weeks, 300.0, first_seen)


def local(row: dict) -> datetime:
    return datetime.fromisoformat(row["start"]).astimezone(ZONE)


def test_the_forecast_of_a_known_weekly_pattern_is_the_pattern_across_a_dst_change() -> None:
    first = MONDAY - timedelta(weeks=4)  # October 12: the weeks before straddle November 1
    series = weekly_series(first, 29)  # through the measured Monday
    rows = staffing_intervals(plan(instant(first, 0)), series, [], VOICE)
    future = [row for row in rows if row["offered"] is None]
    assert len(future) == sum(1 for n in range(7) for h in range(24) if pattern(MONDAY + timedelta(days=n + 1), h))
    for row in future:
        moment = local(row)
        assert row["forecast"] == pattern(moment.date(), moment.hour), row
        assert row["aht_seconds"] == 240.0
        assert row["required_agents"] == required_agents(row["forecast"], 240.0, HOUR, target=0.8,
                                                         answer_seconds=20, max_occupancy=0.85)
    assert {local(row).hour for row in future} == set(range(7, 21))  # the wall clock kept through the DST change
    measured = [row for row in rows if row["offered"] is not None]
    assert all(row["offered"] == row["forecast"] == pattern(MONDAY, local(row).hour) for row in measured)


def test_the_forecast_averages_unequal_weeks_and_ignores_weeks_before_the_data() -> None:
    weeks = [weekly_series(MONDAY - timedelta(weeks=back), 7, extra=back) for back in (1, 2, 3)]  # +1, +2, +3
    first_seen = instant(MONDAY - timedelta(weeks=3), 0)
    rows = staffing_intervals(plan(first_seen, weeks=6), [row for week in weeks for row in week], [], VOICE)
    at_nine = {local(row).date(): row for row in rows if local(row).time() == time(9)}
    # the Tuesday after the measured Monday reads the three Tuesdays with data: (p+1 + p+2 + p+3) / 3, and not the
    # three older ones the six weeks reach, from before the data began
    tuesday = MONDAY + timedelta(days=1)
    assert at_nine[tuesday]["forecast"] == pattern(tuesday, 9) + 2 and at_nine[tuesday]["offered"] is None
    assert max(at_nine) == MONDAY + timedelta(days=7)  # the forecast week ends before the next Tuesday
    monday_nine = [row for row in rows if local(row) == datetime.combine(MONDAY, time(9), ZONE)]
    assert [row["forecast"] for row in monday_nine] == [pattern(MONDAY, 9) + 2]  # (p+1 + p+2 + p+3) / 3
    assert monday_nine[0]["offered"] == 0  # nothing seeded on the measured Monday: offered 0, forecast shown
    next_monday = [row for row in rows if local(row) == datetime.combine(MONDAY + timedelta(days=7), time(9), ZONE)]
    # weeks back from the next Monday: the measured one (0), then +1, +2, +3: four weeks, two older before the data
    assert [row["forecast"] for row in next_monday] == [(0 + 3 * pattern(MONDAY, 9) + 6) / 4]


def test_nothing_earlier_means_no_forecast() -> None:
    rows = staffing_intervals(plan(instant(MONDAY, 0)), weekly_series(MONDAY, 1), [], VOICE)
    assert rows and all(row["forecast"] is None for row in rows if local(row).date() == MONDAY)
    assert [row for row in rows if row["offered"] is None] == [row for row in rows if row["forecast"]]


def test_online_agents_are_mean_agents_over_each_interval() -> None:
    half = plan(None, interval=HOUR // 2)
    nine = instant(MONDAY, 9)
    changes = [("a1", nine, True), ("a2", nine + 900, True), ("a1", nine + 2700, False), ("a1", nine + 3000, True),
               ("a2", nine + 3600, False), ("a3", nine, False)]  # a3 was never online: its going offline is nothing
    stretches = online_stretches(changes, {"a1": ["care"], "a2": ["care", "returns"]}, half.end)
    assert sorted((s.since - nine, s.until - nine) for s in stretches) == [(0, 2700), (900, 3600),
                                                                        (3000, half.end - nine)]
    online = online_by_interval(half, stretches)
    assert online["care"][nine] == 1.5  # a1 all of it, a2 the second quarter
    assert online["care"][nine + 1800] == (900 + 600 + 1800) / 1800  # a1 15 min, back for the last 10; a2 all
    assert online["returns"] == {nine: 0.5, nine + 1800: 1.0}
    assert online["care"][instant(MONDAY, 23, 30)] == 1.0  # a1 still online at the end of the range
    assert OnlineStretch(frozenset(), 0, 1) not in stretches


def test_quiet_intervals_are_left_out_and_online_agents_show_without_contacts() -> None:
    nine = instant(MONDAY, 9)
    arrivals = [Arrivals(nine // QUARTER, "voice", "care", 10, 10, 3000.0)]
    stretch = OnlineStretch(frozenset({"care"}), nine + HOUR, nine + 2 * HOUR)
    rows = staffing_intervals(plan(nine), arrivals, [stretch], VOICE)
    needed = required_agents(10, 300, HOUR, target=0.8, answer_seconds=20, max_occupancy=0.85)
    assert [(local(row).day, local(row).hour, row["offered"], row["online_agents"], row["required_agents"],
             row["forecast"]) for row in rows] == [
        (9, 9, 10, 0.0, needed, None), (9, 10, 0, 1.0, 0, None),
        (16, 9, None, None, needed, 10.0)]  # next Monday: the one week there is


def test_a_week_back_keeps_the_wall_clock_skips_a_missing_time_and_takes_an_ambiguous_ones_first() -> None:
    offsets = Offsets(ZONE, instant(date(2026, 2, 1), 0), instant(date(2026, 12, 1), 0))
    spring = int(datetime(2026, 3, 15, 2, 30, tzinfo=ZONE).timestamp())  # 8 March 02:30 did not exist
    assert same_time_weeks_before(spring, offsets, 2) == [int(datetime(2026, 3, 1, 2, 30, tzinfo=ZONE).timestamp())]
    autumn = int(datetime(2026, 11, 8, 1, 30, tzinfo=ZONE).timestamp())  # 1 November 01:30 came twice
    first = datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=ZONE)
    assert same_time_weeks_before(autumn, offsets, 2) == [
        int(first.timestamp()), int(datetime(2026, 10, 25, 1, 30, tzinfo=ZONE).timestamp())]
    assert int(first.timestamp()) + 3600 == int(datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZONE).timestamp())
    summer = int(datetime(2026, 7, 6, 9, tzinfo=ZONE).timestamp())
    assert same_time_weeks_before(summer, offsets, 3) == [summer - week * 7 * 86400 for week in (1, 2, 3)]
