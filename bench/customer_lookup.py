"""Customer lookup (`GET /inbox/api/customers?q=`'s query) among 100,000 customers, on SQLite and PostgreSQL.

Seeds by bulk insert: 100,000 customers with Spanish and English names (accents included), a WhatsApp number
each, an email for half of them, an order number for half, one or two cases (care, returns, fraud) with one
timeline event each, and the lookup keys the store keeps for them. Then times `find_customers` (every
statement the route runs: the matches, identities, readable cases and their channels) for queries of each
kind: a phone as E.164, as typed nationally with spaces and brackets, an email, an order number, a name
prefix shared by ~1 in 20 customers, a surname; each for a supervisor and for an agent of one team.
Prints the median and p95 per kind and overall. Target: median under 20 ms on both databases.
Run with the service environment: `.venv/bin/python bench/customer_lookup.py [--customers 100000] [--sqlite-only]`.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import READERS, UrlFor, bulk_insert, on_each_database  # noqa: E402
from handoff.core.customer_lookup import find_customers  # noqa: E402
from handoff.store.db import create_engine, session_factory  # noqa: E402
from handoff.store.models import Case, Customer, CustomerKey, Identity, TimelineEvent  # noqa: E402
from handoff.store.search_keys import fact_keys, name_keys  # noqa: E402
from tests.service.support.stack import migrate  # noqa: E402

TARGET_MS = 20.0
FIRST = ["María", "José", "Ana", "Luis", "Sofía", "Jorge", "Lucía", "Carlos", "Elena", "Miguel", "Mary", "John",
         "Emma", "Oliver", "Ava", "Noah", "Camila", "Andrés", "Valeria", "Raúl"]
LAST = ["Pérez", "García", "López", "Martínez", "Hernández", "González", "Rodríguez", "Sánchez", "Ramírez",
        "Núñez", "Smith", "Johnson", "Brown", "Williams", "Jones", "Castillo", "Ortiz", "Morales", "Jiménez",
        "Díaz", "Vargas", "Romero", "Álvarez", "Torres", "Flores"]
TEAMS = ["care", "returns", "fraud"]
START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def phone(index: int) -> str:
    return f"+5255{10_000_000 + index:08d}"


def rows(count: int) -> dict[type, list[dict]]:
    """Every row of the seed, by model."""
    rng = random.Random(13)
    seeded: dict[type, list[dict]] = {Customer: [], Identity: [], Case: [], TimelineEvent: [], CustomerKey: []}
    for index in range(count):
        customer_id = f"c{index:031d}"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
        facts = {"order_number": str(100_000 + index)} if index % 2 == 0 else {}
        created = START + timedelta(seconds=index * 20)
        seeded[Customer].append({"id": customer_id, "display_name": name, "facts": facts, "created_at": created,
                                 "updated_at": created})
        seeded[Identity].append({"customer_id": customer_id, "kind": "whatsapp", "value": phone(index),
                                 "verified": True, "verified_by": "whatsapp", "created_at": created})
        if index % 2 == 1:
            seeded[Identity].append({"customer_id": customer_id, "kind": "email", "value": f"client{index}@example.com",
                                     "verified": False, "created_at": created})
        keys = {("name", key) for key in name_keys(name)} | fact_keys(facts)
        seeded[CustomerKey].extend({"customer_id": customer_id, "kind": kind, "value": value}
                                   for kind, value in sorted(keys))
        for number in range(1 + index % 2):
            case_id = f"k{index:030d}{number}"
            seeded[Case].append({"id": case_id, "customer_id": customer_id, "channel": "whatsapp",
                                 "status": "resolved" if number == 0 and index % 2 else "queued",
                                 "team": TEAMS[(index + number) % 3], "priority": 0, "handoff_count": 1,
                                 "created_at": created + timedelta(days=number), "updated_at": created})
            seeded[TimelineEvent].append({"case_id": case_id, "customer_id": customer_id, "seq": 1,
                                          "channel": "whatsapp", "direction": "in", "actor": "customer",
                                          "kind": "message", "text": "hola", "payload": {},
                                          "created_at": created + timedelta(days=number),
                                          "prev_hash": "0" * 64, "hash": "0" * 64})
    return seeded


async def seed(url: str, count: int) -> float:
    """Seconds to bulk-insert the seed (ANALYZE included on PostgreSQL, as autovacuum would keep statistics)."""
    began = time.perf_counter()
    await bulk_insert(url, rows(count).items(), analyze=True)
    return time.perf_counter() - began


def queries(count: int, per_kind: int) -> dict[str, list[str]]:
    """Queries of each kind, for customers spread over the whole table."""
    rng = random.Random(7)
    picks = [rng.randrange(count) for _ in range(per_kind)]
    return {
        "phone E.164": [phone(i) for i in picks],
        "phone typed": [f"(55) {phone(i)[5:9]} {phone(i)[9:]}" for i in picks],
        "email": [f"Client{i | 1}@example.com" for i in picks],
        "order number": [f"#{100_000 + (i & ~1)}" for i in picks],
        "name prefix": [rng.choice(FIRST)[:4] for _ in picks],
        "surname": [rng.choice(LAST) for _ in picks],
    }


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


async def timed(url: str, count: int, per_kind: int) -> dict[str, list[float]]:
    """Milliseconds per lookup, by kind of query (both readers pooled)."""
    engine = create_engine(url)
    samples: dict[str, list[float]] = {}
    sessions = session_factory(engine)
    async with sessions() as session:  # warm the connection and the statement caches
        await find_customers(session, READERS["supervisor"], "maria", region="MX")
    for kind, typed in queries(count, per_kind).items():
        for query in typed:
            for reader in READERS.values():
                async with sessions() as session:
                    began = time.perf_counter()
                    found = await find_customers(session, reader, query, region="MX")
                    samples.setdefault(kind, []).append((time.perf_counter() - began) * 1000)
                assert found or reader.role == "agent", (kind, query)
    await engine.dispose()
    return samples


async def measure(name: str, url_for: UrlFor, count: int, per_kind: int) -> None:
    url = url_for("lookup")
    migrate(url)
    seconds = await seed(url, count)
    samples = await timed(url, count, per_kind)
    everything = [ms for kind in samples.values() for ms in kind]
    median = statistics.median(everything)
    print(f"customer lookup {name}: {count} customers (seeded in {seconds:.0f} s), "
          f"{len(everything)} lookups: median {median:.1f} ms, p95 {p95(everything):.1f} ms; "
          f"target median < {TARGET_MS:.0f} ms: {'met' if median < TARGET_MS else 'NOT met'}", flush=True)
    for kind, kind_samples in samples.items():
        print(f"  {kind:13} median {statistics.median(kind_samples):6.1f} ms  p95 {p95(kind_samples):6.1f} ms",
              flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    await on_each_database("customer lookup", scratch, args.sqlite_only,
                           lambda name, url_for: measure(name, url_for, args.customers, args.per_kind))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
