"""Time to compute the staffing report (offered, handle time, Erlang C, agents online, the forecast week) for
90 days of 100,000 cases, on SQLite and PostgreSQL.

Cases arrive on webchat, WhatsApp and voice for four teams, more by day than by night and fewer at weekends; about
70 % are handed to people (one transition each, a few transferred: a second), most accepted and ended, some
abandoned. 60 agents go online and offline twice a day (the presence history). Seeded with executemany
in chunks of 5,000 rows (bench/databases.bulk_insert), then ANALYZE on PostgreSQL. Prints the median and p95 of
several runs of the report for the whole 90 days at 15- and 30-minute intervals, and with the response model and
JSON encoding the endpoint adds: wall time, and CPU time (this process and the PostgreSQL server's processes,
parallel workers included), which a machine shared with other work inflates far less. Target: under 2 s on PostgreSQL.
Run with the service environment: `.venv/bin/python bench/staffing.py [--cases 100000] [--runs 7] [--sqlite-only]`.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import UrlFor, bulk_insert, on_each_database  # noqa: E402
from handoff.core.operations import Operations  # noqa: E402
from handoff.reports.schemas import StaffingReport  # noqa: E402
from handoff.reports.staffing_loader import StaffingQuery, staffing_report  # noqa: E402
from handoff.store.db import create_engine, session_factory  # noqa: E402
from handoff.store.models import Agent, Case, Customer, Handoff, PresenceChange  # noqa: E402
from tests.service.support.stack import migrate  # noqa: E402

DAYS = 90
START = datetime(2026, 8, 3, 6, tzinfo=timezone.utc)  # Monday 3 August 2026, 00:00 in Mexico City (UTC−6)
END = START + timedelta(days=DAYS)
TEAMS = ("care", "returns", "fraud", "accounts")
CHANNELS = ("webchat", "whatsapp", "voice")
AGENTS = 60
TARGET_S = 2.0
OPERATIONS = Operations(timezone="America/Mexico_City",
                        sla={"webchat": {"first_response": 60}, "whatsapp": {"first_response": 300},
                             "voice": {"first_response": 20}})


def arrival(rng: random.Random, day: int) -> datetime:
    """A moment of the local day: mostly 09:00–18:00, fewer on Saturdays and Sundays."""
    hour = rng.gauss(13.5, 3.0) if rng.random() < 0.9 else rng.uniform(0, 24)
    seconds = int(min(max(hour, 0), 23.999) * 3600)
    return START + timedelta(days=day, seconds=seconds)


def rows(cases: int, seed: int = 16) -> list[tuple[type, list[dict]]]:
    """Customers, cases, transitions, agents and presence changes."""
    rng = random.Random(seed)
    weights = [0.6 if (START + timedelta(days=day)).weekday() >= 5 else 1.0 for day in range(DAYS)]
    days = rng.choices(range(DAYS), weights, k=cases)
    customers, case_rows, handoffs = [], [], []
    for number, day in enumerate(days):
        opened = arrival(rng, day)
        case_id, customer = f"c{number}", f"u{number}"
        customers.append({"id": customer, "display_name": customer, "facts": {}})
        channel = rng.choice(CHANNELS)
        case_rows.append({"id": case_id, "customer_id": customer, "channel": channel, "status": "resolved",
                          "created_at": opened, "resolved_at": opened + timedelta(minutes=30),
                          "handoff_count": 0, "priority": 0})
        if rng.random() > 0.7:
            continue
        queued = opened + timedelta(seconds=rng.randint(30, 300))
        team = rng.choice(TEAMS)
        for hop in range(2 if rng.random() < 0.05 else 1):
            accepted = queued + timedelta(seconds=rng.randint(5, 240)) if rng.random() < 0.92 else None
            ended = (accepted + timedelta(seconds=int(rng.expovariate(1 / 280)) + 20) if accepted
                     else queued + timedelta(seconds=rng.randint(30, 600)))
            handoffs.append({"case_id": case_id, "direction": "to_human",
                             "reason": "transfer" if hop else "explicit_request", "intent": "request_human",
                             "team": team, "bot_turns": 2, "slots": {}, "queued_at": queued, "accepted_at": accepted,
                             "ended_at": ended, "outcome": ("transferred" if accepted else "abandoned")})
            queued, team = ended, rng.choice(TEAMS)
    agents = [{"id": f"a{n}", "email": f"a{n}@example.com", "display_name": f"a{n}", "password_hash": "x",
               "teams": [TEAMS[n % 4]] + ([TEAMS[(n + 1) % 4]] if n % 3 == 0 else []), "role": "agent"}
              for n in range(AGENTS)]
    changes = []
    for day in range(DAYS):
        for n in range(AGENTS):
            shift = START + timedelta(days=day, hours=8 + (n % 3), minutes=rng.randint(0, 59))
            for begin, until in ((shift, shift + timedelta(hours=4)),
                                 (shift + timedelta(hours=5), shift + timedelta(hours=8, minutes=30))):
                changes += [(begin, n, "online"), (until, n, "offline")]
    changes.sort()
    history = [{"agent_id": f"a{n}", "presence": presence, "changed_at": moment} for moment, n, presence in changes]
    return [(Customer, customers), (Case, case_rows), (Handoff, handoffs), (Agent, agents), (PresenceChange, history)]


def proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a process from /proc (utime + stime; with its reaped children's when asked)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu(postmaster: int | None) -> float:
    """CPU seconds the local PostgreSQL server has used: its processes now, and those that ended (parallel
    workers a query started are the postmaster's reaped children); 0 without one."""
    if postmaster is None:
        return 0.0
    total = proc_cpu(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                total += proc_cpu(int(stat.parent.name))
        except (OSError, ValueError):
            continue  # a process that ended meanwhile
    return total


async def timed(url: str, runs: int, interval: int, encode: bool) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds (this process, plus the PostgreSQL server's processes) of each run of the report for
    the 90 days, and how many intervals it returned."""
    engine = create_engine(url)
    walls, cpus, count = [], [], 0
    for _ in range(runs):
        async with session_factory(engine)() as session:
            pid = None
            if url.startswith("postgresql"):
                data = Path(str(await session.scalar(text("SHOW data_directory"))))
                pid = int((data / "postmaster.pid").read_text().split()[0])
                await session.rollback()
            began, cpu, server = time.perf_counter(), time.process_time(), server_cpu(pid)
            report = await staffing_report(session, OPERATIONS, StaffingQuery(START, END, interval))
            if encode:
                StaffingReport.model_validate(report).model_dump_json()
            walls.append(time.perf_counter() - began)
            cpus.append(time.process_time() - cpu + server_cpu(pid) - server)
            count = len(report["intervals"])
    await engine.dispose()
    return walls, cpus, count


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def met(samples: list[float]) -> str:
    return "met" if statistics.median(samples) < TARGET_S and p95(samples) < TARGET_S else "NOT met"


async def measure(name: str, make_url: UrlFor, cases: int, runs: int) -> None:
    url = make_url("staffing")
    migrate(url)
    began = time.perf_counter()
    batches = rows(cases)
    await bulk_insert(url, batches, analyze=url.startswith("postgresql"))
    print(f"staffing {name}: seeded {cases} cases, {len(batches[2][1])} transitions, {len(batches[4][1])} presence"
          f" changes in {time.perf_counter() - began:.1f} s", flush=True)
    for interval, encode in ((15, False), (30, False), (15, True), (30, True)):
        walls, cpus, count = await timed(url, runs, interval, encode)
        what = f"{interval}-minute intervals" + (" + response model and JSON" if encode else "")
        verdict = f"; target < {TARGET_S:g} s: wall {met(walls)}, CPU {met(cpus)}" if name == "postgresql" else ""
        print(f"staffing {name}: {DAYS} days, {what}: wall median {statistics.median(walls):.3f} s, p95 "
              f"{p95(walls):.3f} s; CPU median {statistics.median(cpus):.3f} s, p95 {p95(cpus):.3f} s ({runs} runs, "
              f"{count} intervals, load average {os.getloadavg()[0]:.1f}){verdict}", flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-staffing-"))
    await asyncio.wait_for(on_each_database("staffing", scratch, args.sqlite_only,
                                            lambda name, url_for: measure(name, url_for, args.cases, args.runs)),
                           timeout=1800)  # bounded: a regression fails the bench instead of hanging it
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
