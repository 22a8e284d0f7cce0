"""The service KPIs of a seeded month against values worked out by hand (service_month.py tells each case's story),
from the definitions (service.py, occupancy.py) and from the store, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from handoff.core.operations import Operations
from handoff.reports import kpis, measures, occupancy, service
from handoff.reports.facts import CaseFact, HandoffFact
from handoff.reports.loader import dashboard, load_occupancy, load_service_cells, service_report
from handoff.store.models import NluSample
from tests.service.reports.month import END, START
from tests.service.reports.service_month import (
    AGENTS,
    ANSWER,
    FIRST_RESPONSE,
    in_month,
    presence,
    seed_service_month,
    service_month,
)
from tests.service.reports.test_dashboard_sql import END as AWKWARD_END
from tests.service.reports.test_dashboard_sql import START as AWKWARD_START
from tests.service.reports.test_dashboard_sql import WINDOW_HOURS as AWKWARD_WINDOW
from tests.service.reports.test_dashboard_sql import ZONE as AWKWARD_ZONE
from tests.service.reports.test_dashboard_sql import awkward_cases
from tests.service.reports.test_dashboard_sql import seed as seed_awkward

ZONE = "America/Mexico_City"
TARGETS = service.Targets(answer=ANSWER, window_hours=72, short_abandon_seconds=10, assistant_silence_minutes=30,
                          now=END)
OPERATIONS = Operations(timezone=ZONE, follow_up_window_hours=72, short_abandon_seconds=10,
                        assistant_silence_minutes=30,
                        sla={channel: {"first_response": FIRST_RESPONSE[channel], "answer": ANSWER[channel]}
                             for channel in ANSWER})

TOTAL = {
    "cases": 253,  # month.py's 152, and 30 tried, 15 called, 30 hungup, 10 gaveup, 6 looping, 3 reasked, 5 moved, 2
    "contained": 108, "containment_rate": 0.4269,  # 62 + 30 tried + 6 looping + 3 reasked + 5 moved + 2
    "durably_contained": 93, "durable_containment_rate": 0.3676,  # 108 − the 15 tried whose customer called
    "offered": 115,  # 75 answered + 70 left people's queue − 30 short
    "answered": 75, "answered_in_target": 75, "short_abandons": 30,
    "service_level": 0.6522,  # 75 / 115
    "asa_seconds": 135.0,  # (30 × 30 + 30 × 300 + 15 × 15) / 75
    "aht_seconds": 480.0,  # (30 × 600 + 30 × 300 + 15 × 600) / 75
    "resolved": 172,  # 122 + 30 tried + 15 called + 5 moved
    "one_contact_resolutions": 77,  # 30 bot + 30 returned + 2 again + the 15 tried whose customer never called
    "one_contact_resolution_rate": 0.4477,
    "abandonment": {"frustration": 9, "saturation": 30, "short": 30, "within_target": 10},
}
CHANNELS = {
    "voice": {"cases": 75, "offered": 45, "answered": 15, "service_level": 0.3333, "asa_seconds": 15.0,
              "aht_seconds": 600.0, "short_abandons": 30, "contained": 0, "durably_contained": 0,
              "abandonment": {"frustration": 0, "saturation": 30, "short": 30, "within_target": 0}},
    "webchat": {"cases": 103, "offered": 30, "answered": 30, "service_level": 1.0, "asa_seconds": 30.0,
                "aht_seconds": 600.0, "short_abandons": 0, "contained": 73, "durably_contained": 58,
                "abandonment": {"frustration": 9, "saturation": 0, "short": 0, "within_target": 0}},
    "whatsapp": {"cases": 75, "offered": 40, "answered": 30, "service_level": 0.75, "asa_seconds": 300.0,
                 "aht_seconds": 300.0, "short_abandons": 0, "contained": 35, "durably_contained": 35,
                 "abandonment": {"frustration": 0, "saturation": 0, "short": 0, "within_target": 10}},
}
OCCUPANCY = {"handle_seconds": 36600.0, "online_seconds": 381600.0, "occupancy": 0.0959, "agents": [
    {"agent_id": "a1", "name": "Ana", "handle_seconds": 27600.0, "online_seconds": 270000.0, "occupancy": 0.1022},
    {"agent_id": "a2", "name": "Beto", "handle_seconds": 9000.0, "online_seconds": 111600.0, "occupancy": 0.0806}]}


def day_levels(day: int) -> dict:
    """A day's service level per channel: WhatsApp halves on days with a customer who gave up, voice has the call
    answered in time beside the one abandoned on even days, only the abandoned one on odd days."""
    return {"voice": 0.5 if day % 2 == 0 else 0.0, "webchat": 1.0, "whatsapp": 0.5 if day % 3 == 0 else 1.0}


def the_cells() -> list[service.ServiceCell]:
    cases = service_month()
    return service.cells(in_month(cases), cases, TARGETS, ZONE)


def the_report() -> dict:
    return service.report(the_cells())


def test_month_totals_match_the_hand_computed_values() -> None:
    assert the_report()["total"] == TOTAL


def test_per_channel() -> None:
    channels = {row["channel"]: row for row in the_report()["channel"]}
    for name, expected in CHANNELS.items():
        assert {key: channels[name][key] for key in expected} == expected, name


def test_service_level_spread_day_by_day() -> None:
    trend = the_report()["trend"]
    assert [row["day"] for row in trend] == [f"2026-11-{day:02d}" for day in range(1, 31)]
    for day, row in enumerate(trend):
        assert row["service_level"] == day_levels(day), row["day"]
        assert row["spread"] == (0.5 if day % 2 == 0 else 1.0), row["day"]


def test_asa_and_aht_per_channel_agree_with_the_dashboards_waits_and_handle_times() -> None:
    """ASA is the dashboard's queue wait and AHT its handle time, per channel, over the same transitions."""
    cases = service_month()
    cells = measures.cells(in_month(cases), cases, window_hours=72, sla=FIRST_RESPONSE, timezone_name=ZONE)
    dashboard_channels = {row["channel"]: row for row in kpis.report(cells)["channel"]}
    for row in the_report()["channel"]:
        assert row["asa_seconds"] == dashboard_channels[row["channel"]]["avg_queue_wait_seconds"]
        assert row["aht_seconds"] == dashboard_channels[row["channel"]]["avg_handle_seconds"]


def test_occupancy_from_the_presence_history() -> None:
    cases = service_month()
    handled = [occupancy.Handled(h.agent_id, h.accepted_at, h.ended_at) for case in cases for h in case.to_human
               if h.agent_id and h.accepted_at]
    figures = occupancy.occupancy(occupancy.handle_us(handled, START, END), occupancy.online_us(presence(), START, END),
                                  AGENTS)
    assert figures == OCCUPANCY


def test_an_agent_online_before_and_still_online_after_the_range_counts_the_range_only() -> None:
    changes = [occupancy.PresenceFact("a", "online", START - timedelta(days=2))]
    assert occupancy.online_us(changes, START, START + timedelta(hours=2)) == {"a": 7200 * 1_000_000}
    assert occupancy.occupancy({}, {}) == {"handle_seconds": 0.0, "online_seconds": 0.0, "occupancy": None,
                                           "agents": []}


def test_empty_period_gives_no_made_up_rates() -> None:
    total = service.report([])["total"]
    assert total["cases"] == 0 and total["service_level"] is None and total["durable_containment_rate"] is None


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_the_store_gives_the_same_figures(sessions, database_url: str) -> None:
    async with sessions() as session, session.begin():
        await seed_service_month(session, service_month(), presence())
    days = kpis.local_days(START, END, ZONE)
    async with sessions() as session:
        cells = await load_service_cells(session, days, TARGETS)
        assert service.report(cells) == the_report()
        assert await load_occupancy(session, START, END) == OCCUPANCY
        report = await service_report(session, OPERATIONS, days, (await dashboard(session, OPERATIONS, START, END))
                                      ["day"], END)
    assert report["total"] == TOTAL and report["occupancy"] == OCCUPANCY
    assert [row["first_response_spread"] for row in report["trend"]] == [1.0] * 30  # webchat met, voice missed


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_database_cells_equal_the_definitions_on_awkward_data(sessions) -> None:
    """Window edges to the microsecond, transfers, withdrawn handoffs, cases merged in chains and across the range's
    edges, cases the assistant still holds with re-asks, a DST change (test_dashboard_sql's generator)."""
    cases = awkward_cases() + crafted_abandons(AWKWARD_START + timedelta(days=1), AWKWARD_END)
    async with sessions() as session, session.begin():
        await seed_awkward(session, cases)
        session.add_all(NluSample(case_id=case.id, source="nlu_fallback", text="?", status="open")
                        for case in cases for _ in range(case.fallbacks))
    targets = service.Targets(answer={"webchat": 60, "whatsapp": 300}, window_hours=AWKWARD_WINDOW,
                              short_abandon_seconds=120, assistant_silence_minutes=30, now=AWKWARD_END)
    async with sessions() as session:
        stored = await load_service_cells(session, kpis.local_days(AWKWARD_START, AWKWARD_END, AWKWARD_ZONE), targets)
    expected = service.cells(in_month(cases, AWKWARD_START, AWKWARD_END), cases, targets, AWKWARD_ZONE)
    assert added_up(stored) == expected
    s = service.summed(expected)
    assert 0 < s["durable"] < s["bot_only"] and 0 < s["one_contact"] < s["resolved"] and s["frustration"]
    assert s["frustration"] == 12 and s["short_abandons"] == 2 and s["saturation_abandons"] == 4  # 10 + 2, 0 + 2, 1 + 3
    assert s["answered_in_target"] < s["answered"]


US = timedelta(microseconds=1)
CRAFTED_TARGETS = service.Targets(answer={"webchat": 60, "whatsapp": 300}, window_hours=72,
                                  short_abandon_seconds=120, assistant_silence_minutes=30, now=END)


def left_queue(case_id: str, channel: str, opened, waited: timedelta, **facts) -> CaseFact:
    """A customer who left people's queue unanswered after `waited`."""
    queued = opened + timedelta(seconds=30)
    return CaseFact(case_id, f"p-{case_id}", channel, "abandoned", opened, queued + waited, handoffs=(
        HandoffFact("to_human", "explicit_request", None, "care", 1, queued, None, queued + waited, "abandoned"),),
        **facts)


def with_assistant(case_id: str, opened, now, *, fallbacks: int = 0, reask_turns: int = 0, silent: timedelta,
                   status: str = "bot") -> CaseFact:
    """A case the assistant holds (status bot), its customer silent for `silent` at the report (`now`)."""
    return CaseFact(case_id, f"p-{case_id}", "webchat", status, opened, fallbacks=fallbacks,
                    reask_turns=reask_turns, last_customer_at=now - silent)


def crafted_abandons(opened, now) -> list[CaseFact]:
    """Customers who left, each on one side of a boundary (short 120 s, webchat's target 60 s, WhatsApp's 300 s,
    voice has none; two fallbacks or one re-ask; 30 minutes of silence)."""
    return [
        left_queue("short-by-1us", "whatsapp", opened, timedelta(seconds=120) - US),  # short
        left_queue("not-short", "whatsapp", opened, timedelta(seconds=120)),  # within target
        left_queue("on-target", "whatsapp", opened, timedelta(seconds=300)),  # within target
        left_queue("past-target", "whatsapp", opened, timedelta(seconds=300) + US),  # saturation
        left_queue("web-short", "webchat", opened, timedelta(seconds=90)),  # short before saturation
        left_queue("web-saturated", "webchat", opened, timedelta(seconds=121)),  # saturation
        left_queue("voice-no-target", "voice", opened, timedelta(hours=2)),  # within (voice has no target here)
        left_queue("frustrated-then-queued", "webchat", opened, timedelta(seconds=200), fallbacks=2),  # saturation
        with_assistant("two-fallbacks", opened, now, fallbacks=2, silent=timedelta(minutes=30)),  # frustration
        with_assistant("one-fallback", opened, now, fallbacks=1, silent=timedelta(hours=5)),
        with_assistant("re-asked", opened, now, reask_turns=1, silent=timedelta(hours=5)),  # frustration
        with_assistant("still-typing", opened, now, fallbacks=3, silent=timedelta(minutes=30) - US),
        with_assistant("resolved-after-fallbacks", opened, now, fallbacks=2, silent=timedelta(hours=5),
                       status="resolved"),
    ]


def test_the_abandonment_split_on_crafted_cases() -> None:
    cases = crafted_abandons(START + timedelta(days=3), END)
    kinds = {case.id: service.queue_abandon_kind(case.handoffs[0], CRAFTED_TARGETS.answer.get(case.channel), 120)
             for case in cases if case.handoffs}
    assert kinds == {"short-by-1us": "short", "not-short": "within_target", "on-target": "within_target",
                     "past-target": "saturation", "web-short": "short", "web-saturated": "saturation",
                     "voice-no-target": "within_target", "frustrated-then-queued": "saturation"}
    frustrated = [case.id for case in cases
                  if service.left_frustrated(measures.Story(case, (case,)), CRAFTED_TARGETS)]
    assert frustrated == ["two-fallbacks", "re-asked"]
    total = service.report(service.cells(cases, cases, CRAFTED_TARGETS, ZONE))["total"]
    assert total["abandonment"] == {"frustration": 2, "saturation": 3, "short": 2, "within_target": 3}
    # offered: 8 left − 2 short; the level's 5 leave the voice call out (no target): none answered in time
    assert (total["offered"], total["service_level"]) == (6, 0.0)


def added_up(cells: list[service.ServiceCell]) -> list[service.ServiceCell]:
    """The store may return a key twice (the cases' sums and the transitions'): add them up."""
    totals: dict[tuple[str, str], list[int]] = {}
    for cell in cells:
        sums = totals.setdefault((cell.day, cell.channel), [0] * len(service.CELL_SUMS))
        for index, value in enumerate(cell[2:]):
            sums[index] += value
    return [service.ServiceCell(*key, *sums) for key, sums in sorted(totals.items())]
