"""The staffing report from the store (reports/staffing_loader.py) on SQLite and PostgreSQL: offered per interval,
handle time, agents required checked against Erlang C computed here with factorials, agents online from presence
changes, the forecast from the Mondays before, filters, and the range's edges to the microsecond."""
from __future__ import annotations

from fractions import Fraction

import pytest

from handoff.reports.staffing_loader import StaffingQuery, staffing_report
from tests.service.reports.staffing_day import END, OPERATIONS, START, seed_day
from tests.service.reports.test_erlang import fewest_agents

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql",
                                                                            marks=pytest.mark.postgres)],
                                     indirect=True)


def by_key(report: dict) -> dict[tuple[str, str, str], dict]:
    """Rows by (local start as HH:MM on a date, channel, team)."""
    return {(row["start"][:16], row["channel"], row["team"]): row for row in report["intervals"]}


async def report_of(sessions, **wanted) -> dict:
    async with sessions() as session, session.begin():
        await seed_day(session)
    async with sessions() as session:
        return await staffing_report(session, OPERATIONS, StaffingQuery(START, END, **wanted))


async def test_offered_handle_time_and_agents_equal_erlang_c_by_hand(sessions) -> None:
    report = await report_of(sessions)
    assert report["targets"] == [
        {"channel": "voice", "service_level": 0.8, "answer_seconds": 20, "max_occupancy": 0.85},
        {"channel": "webchat", "service_level": 0.8, "answer_seconds": 300, "max_occupancy": 0.85},  # defaults
        {"channel": "whatsapp", "service_level": 0.9, "answer_seconds": 300, "max_occupancy": 0.85}]
    rows = by_key(report)
    voice = rows[("2026-11-23T09:00", "voice", "care")]
    # 42 offered (40 handled: 20 × 200 s + 20 × 280 s; the last a microsecond before 09:30), the 4 Mondays' mean
    assert (voice["offered"], voice["aht_seconds"], voice["online_agents"], voice["forecast"]) == (42, 240.0, 2.0,
                                                                                                   36.0)
    assert voice["required_agents"] == fewest_agents(Fraction(42), Fraction(240), 1800, 0.8, 20, 0.85)
    returns = rows[("2026-11-23T09:30", "whatsapp", "returns")]
    # 10 handled in 600 s, 2 abandoned and the transfer (300 s): 13 offered, 6300 s over 11 handled
    assert (returns["offered"], returns["aht_seconds"], returns["online_agents"]) == (13, round(6300 / 11, 1), 1.0)
    assert returns["required_agents"] == fewest_agents(Fraction(13), Fraction(6300, 11), 1800, 0.9, 300, 0.85)
    assert returns["forecast"] == 0.0  # four Mondays without any since the data began
    care_chat = rows[("2026-11-23T09:30", "whatsapp", "care")]
    assert (care_chat["offered"], care_chat["aht_seconds"], care_chat["online_agents"]) == (1, 100.0, 1.5)
    assert rows[("2026-11-23T11:00", "webchat", "")]["offered"] == 1  # a transition with no team
    assert rows[("2026-11-23T08:00", "voice", "care")] == {
        "start": "2026-11-23T08:00:00-06:00", "channel": "voice", "team": "care", "offered": 0,
        "aht_seconds": round((144 * 240 + 9600 + 60) / 185, 1),  # nothing handled then: everything read
        "required_agents": 0, "online_agents": 1.0, "forecast": 0.0}  # a2 online, no calls
    assert rows[("2026-11-23T00:00", "voice", "care")]["offered"] == 1  # the range's first instant
    # a4 went online the evening before and offline at 08:00
    assert [rows[(f"2026-11-23T{t}", "voice", "care")]["online_agents"] for t in ("00:00", "07:30")] == [1.0, 1.0]
    assert not any(key[0].startswith("2026-11-24T00:00") and row["offered"] is not None
                   for key, row in rows.items())  # the first instant after the range is not measured


async def test_the_next_week_is_forecast_from_the_weeks_with_data(sessions) -> None:
    rows = by_key(await report_of(sessions))
    voice = rows[("2026-11-30T09:00", "voice", "care")]
    # weeks back: 23 Nov (42), 16 (42), 9 (38), 2 (34), 26 Oct (30); 19 Oct came before the data began
    assert (voice["offered"], voice["online_agents"], voice["forecast"]) == (None, None, 37.2)
    assert voice["aht_seconds"] == 240.0
    assert voice["required_agents"] == fewest_agents(Fraction(372, 10), Fraction(240), 1800, 0.8, 20, 0.85)
    assert rows[("2026-11-30T09:30", "whatsapp", "returns")]["forecast"] == 2.6  # 13 / 5
    assert max(key[0] for key in rows) < "2026-12-01"


async def test_a_channel_and_a_team_narrow_the_report(sessions) -> None:
    report = await report_of(sessions, channel="whatsapp", team="returns", interval_minutes=60)
    assert [target["channel"] for target in report["targets"]] == ["whatsapp"]
    assert {(row["channel"], row["team"]) for row in report["intervals"]} == {("whatsapp", "returns")}
    nine = by_key(report)[("2026-11-23T09:00", "whatsapp", "returns")]
    assert (nine["offered"], nine["online_agents"]) == (13, 1.0)  # a2 only: a1 takes care's cases
