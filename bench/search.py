"""Full-text search over 1,000,000 timeline events and the case list over 100,000 cases, on SQLite and PostgreSQL.

Seeds 100,000 cases (teams care, returns, fraud, billing; statuses queued, assigned, resolved, abandoned) of
50,000 customers, each case with 10 timeline events: the customer's messages and the assistant's answers
alternating (500,000 customer messages). A message is a few common words, one to three of 60 topic words
(reembolso, tarjeta, pedido, refund, card, order, …, some with accents) and a long tail of 5,000 rarer words,
so a topic word is in ~3% of messages and a pair of them in ~0.1%. Seeded fast (SQLite: executemany on
sqlite3; PostgreSQL: COPY), with the index built afterwards as migration 0012_search builds it for rows
already written (its build time is printed). Then times:
- `find_messages` (the search box's words: every statement it runs) for pairs of topic words, single topic
  words, a word and the start of another (as typed), accented queries and tail words, for a supervisor and a care agent;
- `list_cases` filtered by team and status (first page and the next, with the total), for both readers.
Prints medians and p95. Targets: search median under 100 ms, case list under 50 ms, on both databases.
Run with the service environment: `.venv/bin/python bench/search.py [--cases 100000] [--sqlite-only]`.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import READERS, UrlFor, on_each_database  # noqa: E402
from handoff.core.case_list import CaseFilter, list_cases  # noqa: E402
from handoff.core.message_search import find_messages  # noqa: E402
from handoff.store.db import create_engine, session_factory  # noqa: E402
from handoff.store.search_index import ddl  # noqa: E402
from tests.service.support.stack import migrate  # noqa: E402

SEARCH_TARGET_MS, LIST_TARGET_MS = 100.0, 50.0
EVENTS_PER_CASE = 10
TEAMS = ["care", "returns", "fraud", "billing"]
STATUSES = ["resolved", "resolved", "resolved", "queued", "assigned", "abandoned"]
COMMON = ["hola", "de", "la", "el", "mi", "que", "por", "favor", "no", "me", "the", "my", "to", "please", "is",
          "gracias", "una", "con", "para", "it"]
TOPIC = ["reembolso", "tarjeta", "pedido", "envío", "factura", "contraseña", "cuenta", "cobro", "devolución",
         "garantía", "entrega", "dirección", "cancelar", "pago", "saldo", "crédito", "débito", "transferencia",
         "sucursal", "paquete", "retraso", "dañado", "talla", "cambio", "promoción", "descuento", "cupón",
         "suscripción", "plan", "línea", "refund", "card", "order", "delivery", "invoice", "password", "account",
         "charge", "return", "warranty", "address", "cancel", "payment", "balance", "credit", "debit", "transfer",
         "branch", "parcel", "delay", "damaged", "size", "exchange", "discount", "coupon", "subscription",
         "upgrade", "billing", "receipt", "tracking"]
SYLLABLES = ["ka", "lo", "mi", "ra", "te", "su", "no", "pe", "vi", "da", "xo", "qu", "bre", "tor", "lan", "fis"]
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
CHUNK = 20_000


def tail_words(count: int = 5000) -> list[str]:
    rng = random.Random(3)
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


TAIL = tail_words()


def message(rng: random.Random) -> str:
    words = rng.sample(COMMON, rng.randint(2, 4)) + rng.sample(TOPIC, rng.randint(1, 3)) + \
        [rng.choice(TAIL) for _ in range(rng.randint(2, 5))]
    rng.shuffle(words)
    text = " ".join(words)
    return text[0].upper() + text[1:]


@dataclass
class Seed:
    customers: list[tuple[Any, ...]]
    cases: list[tuple[Any, ...]]
    events: Callable[[], Iterator[tuple[Any, ...]]]  # generated while inserted: 1,000,000 tuples are not kept


def seed_rows(cases: int) -> Seed:
    """customers (id, name, created), cases (id, customer, status, channel, team, created) and a generator of
    events (case, customer, seq, channel, direction, actor, kind, text, created)."""
    rng = random.Random(11)
    customers = [(f"c{n:031d}", f"Cliente {n}", START + timedelta(seconds=n * 60)) for n in range(cases // 2)]
    case_rows = [(f"k{n:031d}", customers[n // 2][0], rng.choice(STATUSES), ("whatsapp", "webchat", "voice")[n % 3],
                  TEAMS[n % 4], START + timedelta(seconds=n * 150)) for n in range(cases)]

    def events() -> Iterator[tuple[Any, ...]]:
        words = random.Random(5)
        for case_id, customer_id, _status, channel, _team, created in case_rows:
            for seq in range(1, EVENTS_PER_CASE + 1):
                customer = seq % 2 == 1
                yield (case_id, customer_id, seq, channel, "in" if customer else "out",
                       "customer" if customer else "bot", "message",
                       message(words) if customer else "Con gusto te ayudo con eso",
                       created + timedelta(seconds=seq * 5))
    return Seed(customers, case_rows, events)


def _sqlite_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's storage format


def seed_sqlite(path: str, seed: Seed) -> float:
    """executemany in one transaction, the index dropped and built after; returns the index's build seconds."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    for statement in ddl("sqlite", up=False):
        connection.execute(statement)
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO customers (id, display_name, facts, created_at, updated_at) "
                           "VALUES (?, ?, '{}', ?, ?)",
                           [(i, name, _sqlite_time(at), _sqlite_time(at)) for i, name, at in seed.customers])
    connection.executemany("INSERT INTO cases (id, customer_id, status, channel, team, priority, handoff_count, "
                           "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 1, ?, ?)",
                           [(*row[:5], _sqlite_time(row[5]), _sqlite_time(row[5])) for row in seed.cases])
    batch: list[tuple[Any, ...]] = []
    insert = ("INSERT INTO timeline_events (case_id, customer_id, seq, channel, direction, actor, kind, text, "
              "payload, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, '', '')")
    for row in seed.events():
        batch.append((*row[:8], _sqlite_time(row[8])))
        if len(batch) >= CHUNK:
            connection.executemany(insert, batch)
            batch = []
    connection.executemany(insert, batch)
    connection.execute("COMMIT")
    began = time.perf_counter()
    for statement in ddl("sqlite", up=True):
        connection.execute(statement)
    built = time.perf_counter() - began
    connection.execute("ANALYZE")
    connection.close()
    return built


async def seed_postgres(url: str, seed: Seed) -> float:
    """COPY, the index dropped and built after (as the migration builds it); returns its build seconds."""
    import asyncpg  # the service environment's PostgreSQL driver

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    for statement in ddl("postgresql", up=False):
        await connection.execute(statement)
    await connection.copy_records_to_table(
        "customers", columns=["id", "display_name", "facts", "created_at", "updated_at"],
        records=[(i, name, "{}", at, at) for i, name, at in seed.customers])
    await connection.copy_records_to_table(
        "cases", columns=["id", "customer_id", "status", "channel", "team", "priority", "handoff_count",
                          "created_at", "updated_at"],
        records=[(*row[:5], 0, 1, row[5], row[5]) for row in seed.cases])
    batch: list[tuple[Any, ...]] = []
    columns = ["case_id", "customer_id", "seq", "channel", "direction", "actor", "kind", "text", "created_at",
               "payload", "prev_hash", "hash"]
    for row in seed.events():
        batch.append((*row, "{}", "", ""))
        if len(batch) >= CHUNK * 5:
            await connection.copy_records_to_table("timeline_events", columns=columns, records=batch)
            batch = []
    await connection.copy_records_to_table("timeline_events", columns=columns, records=batch)
    began = time.perf_counter()
    await connection.execute("SET maintenance_work_mem = '256MB'")
    for statement in ddl("postgresql", up=True):
        await connection.execute(statement)
    built = time.perf_counter() - began
    await connection.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load: statistics, visibility map
    await connection.close()
    return built


def search_queries(per_kind: int) -> dict[str, list[str]]:
    rng = random.Random(7)
    pick = lambda: rng.choice(TOPIC)  # noqa: E731
    return {
        "two topic words": ["reembolso tarjeta"] + [f"{pick()} {pick()}" for _ in range(per_kind - 1)],
        "one topic word": [pick() for _ in range(per_kind)],
        "accents folded": [rng.choice(["DEVOLUCION tarjéta", "Contrasena cuenta", "envio retraso",
                                       "garantia dañado"]) for _ in range(per_kind)],
        "last word begun": [f"{pick()} {pick()[:4]}" for _ in range(per_kind)],
        "tail word": [rng.choice(TAIL) for _ in range(per_kind)],
    }


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


async def timed(url: str, per_kind: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds per search, by kind of query, and per case-list page, by page (both readers pooled)."""
    engine = create_engine(url)
    sessions = session_factory(engine)

    async def clock(call: Callable[[Any], Awaitable[Any]]) -> tuple[float, Any]:
        async with sessions() as session:
            began = time.perf_counter()
            answer = await call(session)
            return (time.perf_counter() - began) * 1000, answer

    await clock(lambda s: find_messages(s, READERS["supervisor"], "hola", limit=20))  # warm the pool and caches
    searches: dict[str, list[float]] = {}
    for kind, typed in search_queries(per_kind).items():
        for query in typed:
            for reader in READERS.values():
                ms, hits = await clock(lambda s, q=query, r=reader: find_messages(s, r, q, limit=20))
                searches.setdefault(kind, []).append(ms)
                assert hits or kind == "tail word" or reader.role == "agent", (kind, query)
    lists: dict[str, list[float]] = {}
    rng = random.Random(9)
    for _ in range(per_kind):
        found = CaseFilter(teams=(rng.choice(TEAMS),), statuses=(rng.choice(["resolved", "queued"]),))
        for reader in READERS.values():
            ms, page = await clock(lambda s, f=found, r=reader: list_cases(s, r, f, limit=50))
            lists.setdefault("first page", []).append(ms)
            if page["next_cursor"]:
                ms, _ = await clock(lambda s, f=found, r=reader, c=page["next_cursor"]:
                                    list_cases(s, r, f, limit=50, cursor=c))
                lists.setdefault("next page", []).append(ms)
    await engine.dispose()
    return searches, lists


def report(label: str, samples: dict[str, list[float]], target: float) -> None:
    everything = [ms for kind in samples.values() for ms in kind]
    median = statistics.median(everything)
    print(f"  {label}: {len(everything)} calls, median {median:.1f} ms, p95 {p95(everything):.1f} ms; "
          f"target median < {target:.0f} ms: {'met' if median < target else 'NOT met'}", flush=True)
    for kind, kind_samples in samples.items():
        print(f"    {kind:16} median {statistics.median(kind_samples):6.1f} ms  p95 {p95(kind_samples):6.1f} ms",
              flush=True)


async def measure(name: str, url_for: UrlFor, cases: int, per_kind: int) -> None:
    url = url_for("search")
    migrate(url)
    seed = seed_rows(cases)
    began = time.perf_counter()
    if name == "sqlite":
        built = await asyncio.to_thread(seed_sqlite, url.removeprefix("sqlite+aiosqlite:///"), seed)
    else:
        built = await seed_postgres(url, seed)
    seconds = time.perf_counter() - began
    print(f"search {name}: {cases} cases, {cases * EVENTS_PER_CASE} timeline events "
          f"({cases * EVENTS_PER_CASE // 2} customer messages) seeded in {seconds:.0f} s, "
          f"the full-text index built in {built:.0f} s", flush=True)
    searches, lists = await timed(url, per_kind)
    report("full-text search", searches, SEARCH_TARGET_MS)
    report("case list by team and status", lists, LIST_TARGET_MS)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--per-kind", type=int, default=20)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        await on_each_database("search", scratch, args.sqlite_only,
                               lambda name, url_for: measure(name, url_for, args.cases, args.per_kind))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # ~1 GB of SQLite
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
