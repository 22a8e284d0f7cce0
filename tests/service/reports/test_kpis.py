"""Every KPI of a seeded month against values worked out by hand (see month.py for the story of each case)."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url

from handoff.core.operations import Operations
from handoff.reports import kpis, measures
from handoff.reports.facts import BOT_ONLY, CELL_SUMS, CaseFact, Cell, HandoffFact
from handoff.reports.loader import dashboard
from tests.service.reports.month import END, SLA, START, day_cases, month, seed

MONTH_TOTAL = {
    "cases": 152, "contained": 62, "containment_rate": 0.4079, "handed_off": 90, "handoff_rate": 0.5921,
    "handoffs": 90, "handoff_reasons": {"complex_intent": 30, "explicit_request": 30, "repeated_fallback": 30},
    "avg_bot_turns_before_handoff": 3.0,  # (2 + 3 + 4) / 3
    "avg_bot_seconds_before_handoff": 70.0,  # (60 + 120 + 30) / 3
    "avg_queue_wait_seconds": 165.0,  # (30 + 300) / 2; the abandoned call was never accepted
    "abandoned_in_queue": 30, "queue_abandonment_rate": 0.3333,
    "avg_first_response_seconds": 190.0,  # (30*40 + 10*300 + 20*360) / 60
    "avg_handle_seconds": 450.0,  # (600 + 300) / 2
    "resolved": 122, "first_contact_resolutions": 92, "fcr_rate": 0.7541,  # every webchat handoff came back
    "recontacts": 30, "recontact_rate": 0.1974,  # E's return after 96 hours is not one
    "sla_attainment": {"voice": 0.0, "webchat": 1.0, "whatsapp": 0.3333}, "sla_spread": 1.0,
    "csat_bot_only": 5.0, "csat_assisted": 4.0, "csat_bot_only_responses": 30, "csat_assisted_responses": 30,
    "reasked": 45, "reask_rate": 0.2961,  # (15 webchat handed-off cases on odd days + 30 calls) / 152
    "overflowed": 45, "overflow_rate": 0.5,  # (15 webchat handoffs on even days + 30 calls) / 90
    "overflow_choices": {"wait": 8, "whatsapp": 0, "callback": 10, "assistant": 7,  # days 0, 4 … 28; 0, 3 … 27
                         "unanswered": 20},  # 45 - 25: the calls of days not a multiple of 3
}


def the_report(cases=None) -> dict:
    cases = cases if cases is not None else month()
    return kpis.report(measures.cells(cases, cases, window_hours=72, sla=SLA, timezone_name="America/Mexico_City"))


def test_month_totals_match_the_hand_computed_values() -> None:
    assert the_report()["total"] == MONTH_TOTAL


def test_one_ordinary_day() -> None:
    day = {row["day"]: row for row in the_report()["day"]}["2026-11-02"]  # day % 3 != 0: WhatsApp SLA missed
    assert len(the_report()["day"]) == 30
    assert (day["cases"], day["containment_rate"], day["handoff_rate"]) == (5, 0.4, 0.6)
    assert (day["avg_queue_wait_seconds"], day["avg_first_response_seconds"], day["avg_handle_seconds"]) == \
        (165.0, 200.0, 450.0)
    assert (day["fcr_rate"], day["recontact_rate"], day["queue_abandonment_rate"]) == (0.75, 0.2, 0.3333)
    assert day["sla_attainment"] == {"voice": 0.0, "webchat": 1.0, "whatsapp": 0.0}
    assert (day["overflowed"], day["overflow_rate"]) == (1, 0.3333)  # the call; the webchat handoff was assigned
    assert day["overflow_choices"] == {"wait": 0, "whatsapp": 0, "callback": 0, "assistant": 0, "unanswered": 1}


def test_overflow_choices_per_channel() -> None:
    channels = {row["channel"]: row for row in the_report()["channel"]}
    assert (channels["webchat"]["overflowed"], channels["webchat"]["overflow_rate"]) == (15, 0.5)
    assert channels["webchat"]["overflow_choices"] == {"wait": 8, "whatsapp": 0, "callback": 0, "assistant": 7,
                                                       "unanswered": 0}
    assert (channels["voice"]["overflowed"], channels["voice"]["overflow_rate"]) == (30, 1.0)
    assert channels["voice"]["overflow_choices"]["callback"] == 10
    assert channels["voice"]["overflow_choices"]["unanswered"] == 20
    assert (channels["whatsapp"]["overflowed"], channels["whatsapp"]["overflow_rate"]) == (0, 0.0)


def test_per_channel_team_and_intent() -> None:
    report = the_report()
    channels = {row["channel"]: row for row in report["channel"]}
    assert {name: row["cases"] for name, row in channels.items()} == {"voice": 30, "webchat": 62, "whatsapp": 60}
    assert channels["webchat"]["containment_rate"] == 0.5161 and channels["webchat"]["fcr_rate"] == 0.5161
    assert channels["whatsapp"]["recontact_rate"] == 0.5 and channels["whatsapp"]["fcr_rate"] == 1.0
    assert channels["voice"]["queue_abandonment_rate"] == 1.0 and channels["voice"]["fcr_rate"] is None
    assert channels["voice"]["sla_spread"] is None  # one channel: no spread
    # reask_rate per channel: cases with a re-ask / cases; 15 of 62 web chats, every call, no WhatsApp case
    assert {name: row["reask_rate"] for name, row in channels.items()} == {"voice": 1.0, "webchat": 0.2419,
                                                                          "whatsapp": 0.0}
    teams = {row["team"]: row["cases"] for row in report["team"]}
    assert teams == {BOT_ONLY: 62, "care": 60, "returns": 30}
    intents = {row["intent"]: row["cases"] for row in report["intent"]}
    assert intents == {BOT_ONLY: 62, "nlu_fallback": 30, "request_human": 30, "return_request": 30}


def test_seconds_before_handoff_restart_when_the_case_comes_back_to_the_bot() -> None:
    returned = day_cases(1)[3]
    again = HandoffFact("to_human", "explicit_request", "request_human", "care", 1,
                             returned.handoffs[1].ended_at + timedelta(seconds=45))
    case = CaseFact(returned.id, returned.customer_id, returned.channel, "queued", returned.created_at,
                         handoffs=returned.handoffs + (again,))
    stretches = [(h.reason, (h.queued_at - since).total_seconds()) for h, since in measures.bot_handoffs(case)]
    assert stretches == [("complex_intent", 120.0), ("explicit_request", 45.0)]
    assert measures.sla_met(again, 60) is None  # still waiting: neither met nor missed yet


def test_a_handoff_withdrawn_when_the_assistant_was_back_stays_counted_but_is_no_sla_miss() -> None:
    opened = START + timedelta(hours=1)
    queued, back = opened + timedelta(seconds=30), opened + timedelta(seconds=90)
    withdrawn = HandoffFact("to_human", "bot_unavailable", None, "care", 1, queued, None, back, "withdrawn")
    case = CaseFact("w1", "pw", "webchat", "resolved", opened, back + timedelta(minutes=5), handoffs=(
        withdrawn, HandoffFact("to_bot", "bot_available", None, "care", 0, back, back, back, "returned_to_bot")))
    total = the_report([case])["total"]
    assert measures.sla_met(withdrawn, 60) is None  # ended unanswered, but no person had to answer
    assert total["sla_attainment"] == {} and total["handoffs"] == 1  # the history stays counted
    assert total["handoff_reasons"] == {"bot_unavailable": 1} and total["abandoned_in_queue"] == 0


def test_empty_period_gives_no_made_up_rates() -> None:
    total = the_report([])["total"]
    assert total["cases"] == 0 and total["containment_rate"] is None and total["sla_attainment"] == {}


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_dashboard_recomputed_from_the_store_matches(sessions, database_url: str) -> None:
    async with sessions() as session, session.begin():
        await seed(session, month())
    operations = Operations(timezone="America/Mexico_City", follow_up_window_hours=72,
                            sla={channel: {"first_response": seconds, "answer": seconds * 3}
                                 for channel, seconds in SLA.items()})
    async with sessions() as session:
        report = await dashboard(session, operations, START, END)
        if database_url.startswith("sqlite"):  # its transaction is still open: a writer must not wait for it
            writer = sqlite3.connect(make_url(database_url).database, timeout=0, isolation_level=None)
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("ROLLBACK")
            writer.close()
    assert report["total"] == MONTH_TOTAL
    assert report.pop("service")["total"]["contained"] == MONTH_TOTAL["contained"]  # test_service_kpis: the rest
    assert report == {"start": START.isoformat(), "end": END.isoformat(), **the_report(),
                      "commitments": kpis.commitment_figures({})}  # nothing promised in this month


def test_a_key_returned_twice_adds_up() -> None:
    """The store returns the cases' sums and the transitions' sums of one cell as two rows."""
    cells = measures.cells(month(), month(), window_hours=72, sla=SLA, timezone_name="America/Mexico_City")
    case_part = set(CELL_SUMS[:CELL_SUMS.index("handoffs")])
    halves = [Cell(*cell[:5], **{name: getattr(cell, name) if (name in case_part) == first else 0
                                 for name in CELL_SUMS})
              for cell in cells for first in (True, False)]
    assert kpis.report(halves) == kpis.report(cells)
    assert kpis.totals(halves)["response_us"] == 60 * 190 * 1_000_000  # 60 answered transitions, 190 s on average
