"""The database's cells (queries.py) equal the pure definitions (measures.py) on awkward data, on SQLite and
PostgreSQL: window and SLA boundaries to the microsecond, transfers, returns to the assistant, handoffs withdrawn
when the assistant was back, still-waiting transitions, decoy timeline events, a DST change inside the range, cases
merged into another (in chains, and across the range's edges)."""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from handoff.core.operations import Operations
from handoff.reports import kpis, measures
from handoff.reports.facts import CELL_SUMS, CaseFact, Cell, HandoffFact
from handoff.reports.loader import dashboard, load_cells
from handoff.store.models import TimelineEvent
from tests.service.reports.month import handoff_row, seed_cases

ZONE = "America/New_York"  # DST ends on 2026-11-01: that local day has 25 hours
START = datetime(2026, 10, 30, 4, tzinfo=timezone.utc)  # local midnight of Oct 30
END = datetime(2026, 11, 4, 5, tzinfo=timezone.utc)  # local midnight of Nov 4
SLA = {"webchat": 60, "whatsapp": 300}  # voice has no target: its transitions are never SLA-checked
WINDOW_HOURS = 72
US = timedelta(microseconds=1)


def transitions(rng: random.Random, opened: datetime) -> tuple[HandoffFact, ...]:
    """Zero to three transitions to people, each accepted or not, answered or not, returned or transferred."""
    found: list[HandoffFact] = []
    moment = opened + timedelta(seconds=rng.randint(1, 600), microseconds=rng.randint(0, 999_999))
    for number in range(rng.choice((0, 0, 1, 1, 2, 3))):
        queued = moment
        accepted = queued + timedelta(seconds=rng.randint(0, 400)) if rng.random() < 0.7 else None
        last = number == 2 or rng.random() < 0.5
        ended = (accepted or queued) + timedelta(seconds=rng.randint(1, 900)) if rng.random() < 0.8 else None
        outcome = None if ended is None else rng.choice(
            ("resolved", "abandoned", "returned_to_bot", "transferred") if last
            else ("returned_to_bot", "transferred"))
        if accepted is None and ended is not None and rng.random() < 0.3:
            outcome = "withdrawn"  # queued while the assistant was down, taken back by it before anyone took it
        target = rng.choice((60, 300))
        reply = None
        if accepted is not None and rng.random() < 0.8:
            reply = rng.choice((queued + timedelta(seconds=target),  # exactly on target: met
                                queued + timedelta(seconds=target) + US,  # a microsecond late
                                accepted + timedelta(seconds=rng.randint(0, 120),
                                                     microseconds=rng.randint(0, 999_999))))
            if ended is not None and reply > ended:
                reply = None
        reason = "transfer" if found and found[-1].outcome == "transferred" else rng.choice(
            ("explicit_request", "repeated_fallback", "complex_intent"))
        if outcome == "withdrawn":
            reason = "bot_unavailable"
        decision = rng.choice(("assign", "queue", "overflow", "overflow", None))  # None: before the policy
        choice = rng.choice((None, "wait", "whatsapp", "callback", "assistant")) if decision == "overflow" else None
        found.append(HandoffFact("to_human", reason, rng.choice(("request_human", None, "return_request")),
                                 rng.choice(("care", "returns", None)), rng.randint(0, 6), queued, accepted, ended,
                                 outcome, reply, decision, choice))
        moment = (ended or queued) + timedelta(seconds=rng.randint(1, 60))
        if outcome == "returned_to_bot" and ended is not None:
            found.append(HandoffFact("to_bot", "returned_by_agent", None, None, 0, ended, ended, ended,
                                     "returned_to_bot"))
        if outcome == "withdrawn" and ended is not None:
            found.append(HandoffFact("to_bot", "bot_available", None, None, 0, ended, ended, ended, "returned_to_bot"))
        if ended is None or outcome in ("resolved", "abandoned"):
            break
    return tuple(found)


def awkward_cases(seed: int = 7) -> list[CaseFact]:
    """About 300 cases of 60 customers around the range, with recontacts exactly on the window's edges."""
    rng, cases = random.Random(seed), []
    window = timedelta(hours=WINDOW_HOURS)
    for customer in range(60):
        opened = START - timedelta(hours=80) + timedelta(seconds=rng.randint(0, 3600 * 200))
        for number in range(rng.randint(1, 8)):
            handoffs = transitions(rng, opened)
            last = max([opened, *(h.ended_at or h.queued_at for h in handoffs)])
            resolved = last + timedelta(seconds=rng.randint(1, 3000), microseconds=rng.randint(0, 999_999))
            status = rng.choice(("resolved", "resolved", "abandoned", "bot", "queued"))
            closed = resolved if status in ("resolved", "abandoned") else None
            cases.append(CaseFact(f"c{customer}x{number}", f"p{customer}", rng.choice(("webchat", "whatsapp", "voice")),
                                  status, opened, closed, rng.choice((None, 1, 3, 5)), handoffs,
                                  rng.choice((0, 0, 1, 3))))
            gap = rng.choice((window, window + US, US, timedelta(hours=rng.randint(1, 120))))
            opened = (closed or resolved) + gap
    return with_merges(cases)


def with_merges(cases: list[CaseFact], seed: int = 11) -> list[CaseFact]:
    """About one case in five merged into a later case of its customer (so some chains: into one merged itself)."""
    rng, found = random.Random(seed), list(cases)
    by_customer: dict[str, list[int]] = defaultdict(list)
    for index, case in enumerate(cases):
        by_customer[case.customer_id].append(index)
    for indexes in by_customer.values():
        for position, index in enumerate(indexes[:-1]):
            if rng.random() < 0.2:
                kept = cases[indexes[rng.randint(position + 1, len(indexes) - 1)]]
                found[index] = replace(found[index], merged_into=kept.id, status="merged")
    return found


async def seed(session, cases: list[CaseFact]) -> None:
    """Writes the facts with decoys around each first reply: messages that must not count as one."""
    await seed_cases(session, cases)
    for case in cases:
        events: list[tuple[datetime, str, str, str]] = [(case.created_at, "in", "customer", "message")]
        for handoff in case.handoffs:
            session.add(handoff_row(case, handoff))
            await session.flush()  # handoff ids follow the order of the transitions
            if handoff.direction != "to_human":
                continue
            events += [(handoff.queued_at - US, "out", "agent:x", "message"),  # before the queue: not a response
                       (handoff.queued_at, "out", "bot", "message"),
                       (handoff.queued_at + US, "internal", "agent:x", "note")]
            if handoff.first_response_at is not None:
                events += [(handoff.first_response_at, "out", "agent:a1", "message"),
                           (handoff.first_response_at + timedelta(seconds=5), "out", "agent:a1", "message")]
            elif handoff.ended_at is not None:
                events.append((handoff.ended_at + US, "out", "agent:a1", "message"))  # after it ended
        for seq, (moment, direction, actor, kind) in enumerate(sorted(events), start=1):
            session.add(TimelineEvent(case_id=case.id, customer_id=case.customer_id, seq=seq, channel=case.channel,
                                      direction=direction, actor=actor, kind=kind, text="x", payload={},
                                      created_at=moment, prev_hash="0" * 64, hash="0" * 64))
    await session.flush()


def merged(cells: list[Cell]) -> list[Cell]:
    """The database may return a key twice (cases' sums and transitions' sums): add them up."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(CELL_SUMS))
    for cell in cells:
        sums = totals[tuple(cell[:5])]
        for index, value in enumerate(cell[5:]):
            sums[index] += value
    return sorted((Cell(*key, *sums) for key, sums in totals.items()), key=lambda c: tuple(p or "" for p in c[:5]))


def test_the_generator_reaches_the_edges() -> None:
    cases = awkward_cases()
    human = [h for case in cases for h in case.to_human]
    assert len(cases) > 200 and any(h.reason == "transfer" for h in human)
    assert any(h.ended_at is None for h in human) and any(h.direction == "to_bot" for c in cases for h in c.handoffs)
    assert any(h.first_response_at == h.queued_at + timedelta(seconds=60) for h in human)
    assert any(h.outcome == "withdrawn" and h.reason == "bot_unavailable" for h in human)
    closed = {(c.customer_id, c.resolved_at) for c in cases if c.resolved_at}
    assert any((c.customer_id, c.created_at - timedelta(hours=WINDOW_HOURS)) in closed for c in cases)
    by_id = {case.id: case for case in cases}
    merged = [(case, by_id[kept]) for case, kept in ((c, measures.continues_on(cases).get(c.id)) for c in cases)
              if kept is not None]
    inside = lambda case: START <= case.created_at < END  # noqa: E731
    assert any(by_id[case.merged_into or ""].merged_into for case, _ in merged)  # a chain
    assert any(inside(kept) and not inside(case) and case.to_human for case, kept in merged)
    assert any(inside(case) and not inside(kept) and case.to_human for case, kept in merged)


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_database_cells_equal_the_pure_definitions(sessions) -> None:
    cases = awkward_cases()
    async with sessions() as session, session.begin():
        await seed(session, cases)
    days = kpis.local_days(START, END, ZONE)
    async with sessions() as session:
        stored = await load_cells(session, days, window_hours=WINDOW_HOURS, sla=SLA)
    in_range = [case for case in cases if START <= case.created_at < END]
    expected = measures.cells(in_range, cases, window_hours=WINDOW_HOURS, sla=SLA, timezone_name=ZONE)
    assert merged(stored) == expected
    totals = kpis.totals(expected)
    assert totals["recontacts"] and totals["fcr"] < totals["resolved"] and totals["sla_checks"] > totals["sla_met"]
    assert {cell.day for cell in expected} <= {day for day, _, _ in days}

    operations = Operations(timezone=ZONE, follow_up_window_hours=WINDOW_HOURS,
                            sla={channel: {"first_response": s, "answer": s * 3} for channel, s in SLA.items()})
    async with sessions() as session:
        report = await dashboard(session, operations, START, END)
    assert report.pop("service")["total"]["cases"] == totals["cases"]  # test_service_kpis checks the rest
    assert report == {"start": START.isoformat(), "end": END.isoformat(), **kpis.report(expected),
                      "commitments": kpis.commitment_figures({})}


def test_local_days_follow_the_clock_change() -> None:
    days = kpis.local_days(START, END, ZONE)
    assert [day for day, _, _ in days] == ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02", "2026-11-03"]
    assert [(after - first) / timedelta(hours=1) for _, first, after in days] == [24, 24, 25, 24, 24]
    partial = kpis.local_days(START + timedelta(hours=6), START + timedelta(hours=30), ZONE)
    assert [(day, after - first) for day, first, after in partial] == [
        ("2026-10-30", timedelta(hours=18)), ("2026-10-31", timedelta(hours=6))]
    assert kpis.local_days(END, END, ZONE) == []


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_an_operation_without_sla_targets_gets_its_dashboard_with_no_sla_checks(sessions) -> None:
    cases = awkward_cases()
    async with sessions() as session, session.begin():
        await seed(session, cases)
    days = kpis.local_days(START, END, ZONE)
    async with sessions() as session:
        stored = await load_cells(session, days, window_hours=WINDOW_HOURS, sla={})
    in_range = [case for case in cases if START <= case.created_at < END]
    expected = measures.cells(in_range, cases, window_hours=WINDOW_HOURS, sla={}, timezone_name=ZONE)
    assert merged(stored) == expected and kpis.totals(expected)["sla_checks"] == 0
