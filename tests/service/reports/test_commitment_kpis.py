"""Commitments kept on time: the store's counts (queries.commitment_counts) equal the case-by-case definition
(measures.commitment_outcome) and the values worked out by hand, on SQLite and PostgreSQL, edges to the microsecond."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from handoff.core.operations import Operations
from handoff.reports import kpis, measures
from handoff.reports.loader import dashboard, load_commitment_counts
from handoff.store.models import Agent, Case, Commitment, Customer

START = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)  # local midnight in Mexico City
END = datetime(2026, 11, 9, 6, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 6, 12, tzinfo=timezone.utc)
US = timedelta(microseconds=1)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=timezone.utc)


# (status, kept_at, due_at) and what each is at NOW
PROMISES = [
    ("kept", at(3), at(3), "kept_on_time"),  # marked kept at its due time exactly
    ("kept", at(3, 11) + US, at(3, 11), "kept_late"),  # one microsecond late
    ("kept", at(2, 8), at(4), "kept_on_time"),
    ("broken", at(5), at(5), "broken"),
    ("open", None, NOW, "overdue"),  # due now: its time has come
    ("open", None, NOW + US, "pending"),
    ("open", None, at(8), "pending"),
    ("kept", START, START, "kept_on_time"),  # due at the first instant of the range: in it
    ("kept", END - timedelta(days=1), END, None),  # due at the instant after the range: not in it
    ("kept", at(1), at(1), None),  # due before the range
]
BY_HAND = {"due": 8, "kept_on_time": 3, "kept_late": 1, "broken": 1, "overdue": 1, "pending": 2,
           "kept_on_time_rate": 0.5}  # 3 kept on time of the 6 whose time has come (8 due − 2 pending)


def test_each_promise_has_the_outcome_worked_out_by_hand() -> None:
    assert [measures.commitment_outcome(status, kept, due, NOW) for status, kept, due, _ in PROMISES[:8]] \
        == [expected for *_, expected in PROMISES[:8]]
    counts = measures.commitment_counts([(s, k, d) for s, k, d, _ in PROMISES], START, END, NOW)
    assert kpis.commitment_figures(counts) == BY_HAND


def test_nothing_due_gives_no_made_up_rate() -> None:
    assert kpis.commitment_figures({}) == {"due": 0, "kept_on_time": 0, "kept_late": 0, "broken": 0, "overdue": 0,
                                           "pending": 0, "kept_on_time_rate": None}
    assert kpis.commitment_figures({"pending": 2})["kept_on_time_rate"] is None  # none has come due yet


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_the_store_counts_equal_the_definition_and_the_dashboard_shows_them(sessions) -> None:
    async with sessions() as session, session.begin():
        agent = Agent(email="maria@example.com", display_name="Maria", password_hash="x", teams=["care"])
        customer = Customer(display_name="Ana")
        session.add_all([agent, customer])
        await session.flush()
        case = Case(customer_id=customer.id, status="assigned", channel="whatsapp", team="care",
                    assignee_id=agent.id)
        session.add(case)
        await session.flush()
        session.add_all(Commitment(case_id=case.id, customer_id=customer.id, agent_id=agent.id, text=f"promesa {n}",
                                   status=status, kept_at=kept, due_at=due)
                        for n, (status, kept, due, _) in enumerate(PROMISES))
    async with sessions() as session:
        counts = await load_commitment_counts(session, START, END, NOW)
    assert counts == measures.commitment_counts([(s, k, d) for s, k, d, _ in PROMISES], START, END, NOW)
    assert kpis.commitment_figures(counts) == BY_HAND
    async with sessions() as session:  # today (after the range): every open promise has come due
        report = await dashboard(session, Operations(timezone="America/Mexico_City",
                                                     sla={"whatsapp": {"first_response": 300, "answer": 900}}),
                                 START, END)
    assert report["commitments"] == {**BY_HAND, "overdue": 3, "pending": 0, "kept_on_time_rate": 0.375}
