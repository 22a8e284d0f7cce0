"""Time to compute the supervisor dashboard (every KPI, per day, channel, team and intent) for 100,000 cases.

The month of tests/service/reports/month.py repeated: 20,000 groups of five cases (bot-only, handed off and
recontacted on WhatsApp, returned to the assistant, abandoned in queue) spread over 30 days, with their
handoff rows and a timeline per case (the customer's first message, the assistant's answer, a customer
message while waiting for people, the agent's reply). Prints the median of several runs on SQLite and
PostgreSQL, and the ratio to the same computation over 10,000 cases (a linear dashboard stays near 10x).
Target: under 1 s on PostgreSQL.
Run with the service environment: `.venv/bin/python bench/dashboard.py [--cases 100000] [--runs 5] [--sqlite-only]`.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import UrlFor, bulk_insert, on_each_database  # noqa: E402
from handoff.core.operations import Operations  # noqa: E402
from handoff.reports.loader import dashboard  # noqa: E402
from handoff.store.db import create_engine, session_factory  # noqa: E402
from handoff.store.models import Case, Customer, Handoff, TimelineEvent  # noqa: E402
from tests.service.reports.month import END, SLA, START, day_cases  # noqa: E402
from tests.service.support.stack import migrate  # noqa: E402

OPERATIONS = Operations(timezone="America/Mexico_City", follow_up_window_hours=72,
                        sla={c: {"first_response": s, "answer": s * 3} for c, s in SLA.items()})


def rows(cases: int) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """Customers, cases, handoffs and timeline events for `cases` cases."""
    customers: dict[str, dict] = {}
    case_rows, handoffs, events = [], [], []
    for group in range(cases // 5):
        for fact in day_cases(group % 30):
            case_id, customer = f"{group}-{fact.id}"[:32], f"{group}-{fact.customer_id}"
            customers[customer] = {"id": customer, "display_name": customer, "facts": {}}
            case_rows.append({"id": case_id, "customer_id": customer, "channel": fact.channel,
                              "status": fact.status, "created_at": fact.created_at, "resolved_at": fact.resolved_at,
                              "csat": fact.csat, "handoff_count": len(fact.to_human), "priority": 0})
            timeline = [(fact.created_at, "in", "customer"), (fact.created_at + timedelta(seconds=1), "out", "bot")]
            for h in fact.handoffs:
                handoffs.append({"case_id": case_id, "direction": h.direction, "reason": h.reason,
                                 "intent": h.intent, "team": h.team, "bot_turns": h.bot_turns, "slots": {},
                                 "queued_at": h.queued_at, "accepted_at": h.accepted_at, "ended_at": h.ended_at,
                                 "outcome": h.outcome})
                if h.direction == "to_human":
                    timeline.append((h.queued_at + timedelta(seconds=5), "in", "customer"))
                if h.first_response_at is not None:
                    timeline.append((h.first_response_at, "out", "agent:a1"))
            for seq, (moment, direction, actor) in enumerate(sorted(timeline), start=1):
                events.append({"case_id": case_id, "customer_id": customer, "seq": seq, "channel": fact.channel,
                               "direction": direction, "actor": actor, "kind": "message", "text": "hola",
                               "payload": {}, "created_at": moment, "prev_hash": "0" * 64, "hash": "0" * 64})
    return list(customers.values()), case_rows, handoffs, events


async def seed(url: str, cases: int) -> None:
    await bulk_insert(url, zip((Customer, Case, Handoff, TimelineEvent), rows(cases), strict=True),
                      analyze=url.startswith("postgresql"))


async def timed(url: str, runs: int) -> tuple[float, int]:
    """Median seconds of a full dashboard computation, and the number of cases it covered."""
    engine = create_engine(url)
    samples, total = [], 0
    for _ in range(runs):
        async with session_factory(engine)() as session:
            began = time.perf_counter()
            report = await dashboard(session, OPERATIONS, START, END)
            samples.append(time.perf_counter() - began)
            total = report["total"]["cases"]
    await engine.dispose()
    return statistics.median(samples), total


async def measure(name: str, make_url: UrlFor, cases: int, runs: int) -> None:
    results = {}
    for count in (cases // 10, cases):
        url = make_url(f"dash{count}")
        migrate(url)
        await seed(url, count)
        results[count] = await timed(url, runs)
    (small, _), (large, covered) = results[cases // 10], results[cases]
    verdict = f"; target < 1 s: {'met' if large < 1 else 'NOT met'}" if name == "postgresql" else ""
    print(f"dashboard {name}: {covered} cases in {large:.3f} s (median of {runs}); "
          f"{cases // 10} cases in {small:.3f} s; ratio {large / small:.1f}x{verdict}", flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    await on_each_database("dashboard", scratch, args.sqlite_only,
                           lambda name, url_for: measure(name, url_for, args.cases, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
