"""Routing decision time and case-opening cost, on SQLite and PostgreSQL.

1. Time of one routing decision with the full policy (handoff.core.assignment.decide: the situation read from
   the store — the team's agent loads, the queue position, the previous case and its agent, the customer's
   identities and facts — then core.routing_policy.decide) with 1,000 queued cases and 200 online agents: a
   newcomer when every agent is full (overflow: the wait passes the target), a returning customer whose agent
   is full (held for them), and when one agent has a free slot (the case goes to them). Median and p95;
   target: median <= 5 ms. Also printed: the whole route_case with the assignment written (agent row lock,
   the decision on the handoff, timeline events).
2. Opening a case (handoff.inbox.views.case_view: first page of history, customer panel, handoffs) for a
   customer with 10,000 timeline events against one with 100, interleaved. Target: ratio <= 1.5.
Each decision runs in a transaction that is rolled back, so every sample sees the same state.
Run with the service environment: `.venv/bin/python bench/routing.py [--samples 200] [--sqlite-only]`.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from handoff.core.assignment import decide, route_case  # noqa: E402
from handoff.core.hashchain import GENESIS, event_hash  # noqa: E402
from handoff.core.operations import load_operations  # noqa: E402
from handoff.core.routing_policy import ASSIGN, HOLD, OVERFLOW  # noqa: E402
from handoff.core.timeline import event_fields  # noqa: E402
from handoff.inbox.views import case_view  # noqa: E402
from handoff.settings import REPO_ROOT  # noqa: E402
from handoff.store.db import create_engine, session_factory  # noqa: E402
from handoff.store.models import Agent, Case, Customer, Handoff, Identity, TimelineEvent, utcnow  # noqa: E402
from tests.service.support.servers import postgres_bin, start_postgres  # noqa: E402
from tests.service.support.stack import migrate  # noqa: E402

TEAMS = ["care", "returns", "fraud", "accounts"]
AGENTS, QUEUED, CAPACITY = 200, 1000, 3
OPERATIONS = load_operations(REPO_ROOT / "operations.yml")
OPEN = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)  # a Wednesday, 11:30 in Mexico City: business hours


def customer_with_case(status: str, team: str | None, minutes_ago: float, **case_fields) -> tuple[Customer, Case]:
    now = utcnow()
    customer = Customer(id=uuid.uuid4().hex, display_name="Cliente", language="es", facts={})
    case = Case(id=uuid.uuid4().hex, customer_id=customer.id, status=status, channel="webchat", language="es",
                team=team, priority=0, handoff_count=1, queued_at=now - timedelta(minutes=minutes_ago),
                created_at=now - timedelta(minutes=minutes_ago), **case_fields)
    return customer, case


def history(customer: Customer, case: Case, count: int) -> list[TimelineEvent]:
    """A hash-chained timeline built in memory (append_event's locking is not what is measured here)."""
    events, previous = [], GENESIS
    start = utcnow() - timedelta(days=30)
    for seq in range(1, count + 1):
        event = TimelineEvent(case_id=case.id, customer_id=customer.id, seq=seq, channel="webchat",
                              direction="in" if seq % 2 else "out", actor="customer" if seq % 2 else "bot",
                              kind="message", text=f"mensaje {seq}", payload={}, provider_id=None,
                              created_at=start + timedelta(seconds=seq), prev_hash=previous)
        event.hash = previous = event_hash(event_fields(event))
        events.append(event)
    return events


async def seed(sessions) -> tuple[dict[str, str], str, str, str]:
    """200 full agents, 1,000 queued cases, a newcomer and a returning customer queued for returns, and two
    customers with 10,000 and 100 events."""
    async with sessions() as session, session.begin():
        agents = [Agent(id=uuid.uuid4().hex, email=f"a{n}@bench.test", display_name=f"Agent {n}", password_hash="x",
                        role="agent", teams=[TEAMS[n % len(TEAMS)]], skills=[], capacity=CAPACITY,
                        presence="online", active=True, last_assigned_at=utcnow() - timedelta(minutes=n))
                  for n in range(AGENTS)]
        session.add_all(agents)
        await session.flush()
        pairs = [customer_with_case("assigned", agent.teams[0], 30, assignee_id=agent.id)
                 for agent in agents for _ in range(CAPACITY)]
        pairs += [customer_with_case("queued", TEAMS[n % len(TEAMS)], QUEUED - n) for n in range(QUEUED)]
        newcomer_customer, newcomer = customer_with_case("queued", "returns", 0)
        pairs.append((newcomer_customer, newcomer))
        returning_customer, earlier = customer_with_case("resolved", "returns", 600, assignee_id=agents[1].id)
        returning = Case(id=uuid.uuid4().hex, customer_id=returning_customer.id, status="queued", channel="webchat",
                         language="es", team="returns", priority=0, handoff_count=1, queued_at=utcnow(),
                         created_at=utcnow(), previous_case_id=earlier.id)
        pairs += [(returning_customer, earlier), (returning_customer, returning)]
        opened_pairs = {label: customer_with_case("assigned", "care", 5, assignee_id=agents[0].id)
                        for label in ("10000", "100")}
        pairs += list(opened_pairs.values())
        session.add_all([customer for customer, _case in pairs])
        await session.flush()
        session.add_all([case for _customer, case in pairs])
        await session.flush()
        session.add(Identity(customer_id=returning_customer.id, kind="whatsapp", value="5215512345678",
                             verified=True))
        session.add_all([Handoff(case_id=case.id, direction="to_human", reason="complex_intent",
                                 intent="return_request", team="returns", slots={}, bot_turns=1)
                         for case in (newcomer, returning)])
        opened = {}
        for label, (customer, case) in opened_pairs.items():
            session.add(Identity(customer_id=customer.id, kind="webchat", value=uuid.uuid4().hex, verified=False))
            session.add_all(history(customer, case, int(label)))
            opened[label] = case.id
    return opened, newcomer.id, returning.id, agents[1].id


async def routing_sample(sessions, case_id: str, *, expect: str = OVERFLOW, write: bool = False) -> float:
    async with sessions() as session:
        transaction = await session.begin()
        case = await session.get(Case, case_id)
        start = time.perf_counter()
        decision = await (route_case(session, case, OPERATIONS, now=OPEN) if write
                          else decide(session, case, OPERATIONS, now=OPEN))
        elapsed = time.perf_counter() - start
        await transaction.rollback()
    assert decision.action == expect, decision
    return elapsed


@dataclass(frozen=True)
class Opener:
    """The agent who opens the case: its assignee, of the care team (the reading rule is part of the cost)."""

    id: str
    role: str = "agent"
    teams: tuple[str, ...] = ("care",)


async def open_sample(sessions, case_id: str) -> float:
    async with sessions() as session:
        start = time.perf_counter()
        case = await session.get(Case, case_id)
        view = await case_view(session, case, Opener(case.assignee_id))
        elapsed = time.perf_counter() - start
    assert len(view["events"]) == 50
    return elapsed


async def measure(database_url: str, samples: int) -> dict[str, float]:
    migrate(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    opened, newcomer, returning, free_agent = await seed(sessions)
    for _ in range(10):  # warm caches and the connection pool
        await routing_sample(sessions, newcomer)
        await open_sample(sessions, opened["10000"])
        await open_sample(sessions, opened["100"])
    queued = [await routing_sample(sessions, newcomer) for _ in range(samples)]
    held = [await routing_sample(sessions, returning, expect=HOLD) for _ in range(samples)]
    async with sessions() as session, session.begin():  # one agent of the team frees a slot
        freed = await session.scalar(select(Case).where(Case.assignee_id == free_agent).limit(1))
        freed.status = "resolved"
    assigned = [await routing_sample(sessions, newcomer, expect=ASSIGN) for _ in range(samples)]
    written = [await routing_sample(sessions, newcomer, expect=ASSIGN, write=True) for _ in range(samples)]
    big, small = [], []
    for index in range(samples):
        order = (("10000", big), ("100", small)) if index % 2 == 0 else (("100", small), ("10000", big))
        for label, bucket in order:
            bucket.append(await open_sample(sessions, opened[label]))
    await engine.dispose()
    return {"queued": statistics.median(queued), "assigned": statistics.median(assigned),
            "held": statistics.median(held), "written": statistics.median(written),
            "p95": max(p95(queued), p95(held), p95(assigned)),
            "big": statistics.median(big), "small": statistics.median(small)}


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def report(name: str, result: dict[str, float]) -> None:
    worst = max(result["queued"], result["assigned"], result["held"]) * 1000
    ratio = result["big"] / result["small"]
    print(f"{name}")
    print(f"  routing decision (full policy), {QUEUED} queued / {AGENTS} agents, median: overflow "
          f"{result['queued'] * 1000:6.2f} ms, follow-up held {result['held'] * 1000:6.2f} ms, assigned "
          f"{result['assigned'] * 1000:6.2f} ms; p95 of all {result['p95'] * 1000:6.2f} ms  "
          f"(target median <= 5 ms: {'ok' if worst <= 5 else 'MISSED'})")
    print(f"  route_case with the assignment written: {result['written'] * 1000:6.2f} ms")
    print(f"  open case, 10,000 events {result['big'] * 1000:6.2f} ms vs 100 events {result['small'] * 1000:6.2f} ms"
          f"  ratio {ratio:.2f}  (target <= 1.5: {'ok' if ratio <= 1.5 else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-routing-"))
    report("SQLite", asyncio.run(measure(f"sqlite+aiosqlite:///{workdir / 'routing.sqlite3'}", args.samples)))
    if args.sqlite_only:
        return
    if postgres_bin() is None:
        print("PostgreSQL: skipped (Debian package postgresql is not installed)")
        return
    server = start_postgres()
    try:
        report("PostgreSQL", asyncio.run(measure(server.create_database("bench_routing"), args.samples)))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
