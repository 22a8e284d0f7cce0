"""Database statements and transactions a customer turn costs, by the service code that issued them.

Each round trip to PostgreSQL costs a worker CPU (asyncpg, SQLAlchemy around it): this counts them, so a change
that adds some shows. The whole app is served in this process (tests' served_app) on a private PostgreSQL (tests'
start_postgres; `--database-url` for another empty database, `sqlite+aiosqlite:///...` too), the Rasa stand-in
answering at once (one message a turn) and the Graph API stand-in taking WhatsApp's sends. Turns run one at a time;
each is counted until the database has been quiet for `--quiet` seconds (tests/service/support/statements.py):

- a webchat turn: `user_uttered` to the assistant's answer (`on_user_uttered`);
- a WhatsApp text webhook: the signed POST, its storing, the assistant's turn, the outbox's sends of the answer and
  of the read receipt, and the outbox's scans (these vary with timing: the others do not).

A customer's first message (customer, identities and case created) is counted apart from the later ones.
Prints, per turn: statements, transactions (BEGINs: a session that only reads opens one too; each costs a BEGIN
and a COMMIT or ROLLBACK trip on PostgreSQL) and pool checkouts, then statements and BEGINs by activity › caller
(`--summary`: without). Run with the service environment: `.venv/bin/python bench/statements.py`.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn  # noqa: E402
from tests.service.support.rasa_standin import RasaStandIn  # noqa: E402
from tests.service.support.served_app import app_settings, served_app, served_standin  # noqa: E402
from tests.service.support.servers import start_postgres  # noqa: E402
from tests.service.support.stack import always_open_operations, migrate  # noqa: E402
from tests.service.support.statements import Meter, Tally, webchat_turns, whatsapp_turns  # noqa: E402

SECRET = "bench-statements-secret"
OPEN_LIMITS = {"webchat_rate_limit_new_sessions": 100000, "webchat_rate_limit_messages": 100000}


@dataclass
class Scenario:
    name: str
    turns: int = 0
    tally: Tally = field(default_factory=Tally)

    def add(self, tallies: list[Tally]) -> None:
        for tally in tallies:
            self.turns += 1
            self.tally.add(tally)


def report(scenario: Scenario, detail: bool) -> None:
    """Per-turn averages, then (with `detail`) the statements and BEGINs by activity › caller."""
    if not scenario.turns:
        return
    n = scenario.turns
    statements, begins = sum(scenario.tally.statements.values()), sum(scenario.tally.begins.values())
    print(f"\n{scenario.name}: {n} turns; per turn {statements / n:.1f} statements, {begins / n:.1f} transactions, "
          f"{scenario.tally.checkouts / n:.1f} checkouts")
    if not detail:
        return
    by_caller: Counter[tuple[str, str]] = Counter()
    for (activity, caller, kind), count in scenario.tally.statements.items():
        by_caller[(f"{activity} › {caller}", kind)] += count
    for (activity, caller), count in scenario.tally.begins.items():
        by_caller[(f"{activity} › {caller}", "BEGIN")] += count
    for (path, kind), count in sorted(by_caller.items(), key=lambda item: (item[0][0], -item[1])):
        print(f"  {count / n:5.2f}  {path:<86} {kind}")


async def run(args: argparse.Namespace, database_url: str, workdir: Path) -> None:
    meter = Meter()
    graph = GraphStandIn().start()
    scenarios = {name: Scenario(name) for name in (
        "webchat first message", "webchat turn", "whatsapp first message", "whatsapp text webhook")}
    try:
        async with served_standin(RasaStandIn()) as rasa_url:
            settings = app_settings(
                workdir, rasa_url, database_url=database_url, operations_file=always_open_operations(workdir),
                whatsapp_app_secret=SECRET, whatsapp_api_base=graph.base_url, whatsapp_access_token=TOKEN,
                whatsapp_phone_number_id=PHONE_NUMBER_ID, media_dir=workdir / "media", **OPEN_LIMITS)
            with meter.listening():
                async with served_app(settings) as base_url, httpx.AsyncClient(timeout=60) as client:
                    await meter.measure(lambda: asyncio.sleep(0), args.quiet)  # the app's start-up rounds
                    for customer in range(args.customers):
                        first, *later = await webchat_turns(meter, base_url, args.turns + 1, args.quiet)
                        scenarios["webchat first message"].add([first])
                        scenarios["webchat turn"].add(later)
                        first, *later = await whatsapp_turns(meter, client, base_url, graph, SECRET,
                                                             f"1777{customer:07d}", args.turns + 1, args.quiet)
                        scenarios["whatsapp first message"].add([first])
                        scenarios["whatsapp text webhook"].add(later)
    finally:
        graph.stop()
    print(f"database: {database_url.split('://', 1)[0]}; Rasa stand-in (one answer a turn)")
    for scenario in scenarios.values():
        report(scenario, args.detail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=3, help="customers on each channel")
    parser.add_argument("--turns", type=int, default=3, help="messages of each customer after the first")
    parser.add_argument("--quiet", type=float, default=0.4, help="seconds without a statement that end a turn")
    parser.add_argument("--database-url", help="an empty database (migrated here); default: a private PostgreSQL")
    parser.add_argument("--summary", dest="detail", action="store_false", help="totals only, no breakdown")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-statements-"))
    server = None
    database_url = args.database_url
    if database_url is None:
        server = start_postgres()
        database_url = server.create_database("statements")
    try:
        migrate(database_url)
        asyncio.run(run(args, database_url, workdir))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
