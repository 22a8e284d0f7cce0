"""Database statements and transactions a customer turn costs, by the service code that issued them.

Each round trip to PostgreSQL costs a worker CPU (asyncpg, SQLAlchemy around it): this counts them, so a change
that adds some shows. The whole app is served in this process (tests' served_app) on a private PostgreSQL (tests'
start_postgres; `--database-url` for another database, `sqlite+aiosqlite:///...` too), with the Rasa stand-in
answering at once and the Graph API stand-in taking WhatsApp's sends. Turns run one at a time; each is counted
until the database has been quiet for `--quiet` seconds (its listeners and, for WhatsApp, the outbox send and its
record included):

- a webchat turn: `user_uttered` to the assistant's answer (`on_user_uttered`);
- a WhatsApp text webhook: the signed POST, its storing, the assistant's turn and the outbox send of the answer.

A customer's first message (customer, identities and case created) is counted apart from the later ones.
Prints, per turn: statements, transactions (BEGIN; a session that only reads opens one too) and pool checkouts
(each one a ping while `pool_pre_ping` is on), then the statements by activity and function. Run with the
service environment: `.venv/bin/python bench/statements.py [--customers 5] [--turns 4]`.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from greenlet import getcurrent
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handoff.channels.whatsapp.signature import sign  # noqa: E402
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn  # noqa: E402
from tests.service.support.rasa_standin import RasaStandIn  # noqa: E402
from tests.service.support.served_app import app_settings, served_app, served_standin  # noqa: E402
from tests.service.support.servers import start_postgres  # noqa: E402
from tests.service.support.stack import always_open_operations, migrate  # noqa: E402
from tests.service.support.webchat_client import Visitor  # noqa: E402
from tests.service.support.whatsapp_webhooks import text_webhook  # noqa: E402

SECRET = "bench-statements-secret"
OPEN_LIMITS = {"webchat_rate_limit_new_sessions": 100000, "webchat_rate_limit_messages": 100000}
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)
_SKIPPED = ("/handoff/store/db.py",)  # the engine's own listeners: the caller is the code path


def _frames() -> Iterator[FrameType]:
    """The current stack, continued past SQLAlchemy's greenlet into the coroutines that awaited it."""
    frame: FrameType | None = sys._getframe(2)
    current = getcurrent()
    while True:
        while frame is not None:
            yield frame
            frame = frame.f_back
        current = current.parent
        if current is None:
            return
        frame = current.gr_frame


def code_path() -> tuple[str, str]:
    """(the outermost handoff function, the innermost one) of the running stack: the activity and the caller."""
    found = []
    for frame in _frames():
        name = frame.f_code.co_filename
        if "/handoff/" in name and not name.endswith(_SKIPPED):
            found.append(f"{name.rsplit('/handoff/', 1)[1].removesuffix('.py')}:{frame.f_code.co_name}")
    if not found:
        return "(outside handoff)", "(outside handoff)"
    return found[-1], found[0]


def statement_kind(sql: str) -> str:
    """`SELECT cases`, `INSERT timeline_events`: the verb and the first table named."""
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    table = _TABLE.search(sql)
    return f"{verb} {table.group(1)}" if table else verb


@dataclass
class Tally:
    """What the engine did while counting: statements by (activity, caller, kind), BEGINs and checkouts."""

    statements: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    begins: Counter[tuple[str, str]] = field(default_factory=Counter)
    checkouts: int = 0
    last: float = field(default_factory=time.monotonic)

    def add(self, other: Tally) -> None:
        self.statements.update(other.statements)
        self.begins.update(other.begins)
        self.checkouts += other.checkouts


class Meter:
    """SQLAlchemy event listeners on every engine and pool of this process, counting into `tally`."""

    def __init__(self) -> None:
        self.tally = Tally()

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        activity, caller = code_path()
        self.tally.statements[(activity, caller, statement_kind(statement))] += 1
        self.tally.last = time.monotonic()

    def _begin(self, _conn: Any) -> None:
        self.tally.begins[code_path()] += 1
        self.tally.last = time.monotonic()

    def _checkout(self, *_args: Any) -> None:
        self.tally.checkouts += 1
        self.tally.last = time.monotonic()

    @contextmanager
    def listening(self) -> Iterator[None]:
        hooks: list[tuple[Any, str, Callable[..., None]]] = [
            (Engine, "before_cursor_execute", self._statement), (Engine, "begin", self._begin),
            (Pool, "checkout", self._checkout)]
        for target, name, hook in hooks:
            event.listen(target, name, hook)
        try:
            yield
        finally:
            for target, name, hook in hooks:
                event.remove(target, name, hook)

    async def measure(self, turn: Callable[[], Awaitable[None]], quiet: float) -> Tally:
        """What `turn` and whatever it set off cost, up to `quiet` seconds without a statement."""
        self.tally = Tally()
        await turn()
        while time.monotonic() - self.tally.last < quiet:
            await asyncio.sleep(quiet / 4)
        return self.tally


@dataclass
class Scenario:
    name: str
    turns: int = 0
    tally: Tally = field(default_factory=Tally)

    def add(self, tally: Tally) -> None:
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
                        await webchat(meter, scenarios, base_url, args)
                        await whatsapp(meter, scenarios, client, base_url, graph, f"1777{customer:07d}", args)
    finally:
        graph.stop()
    print(f"database: {database_url.split('://', 1)[0]}; Rasa stand-in (one answer a turn)")
    for scenario in scenarios.values():
        report(scenario, args.detail)


async def webchat(meter: Meter, scenarios: dict[str, Scenario], base_url: str, args: argparse.Namespace) -> None:
    visitor = Visitor(base_url)
    await visitor.connect()
    async def say(turn: int) -> None:
        replies = await visitor.say(f"hola, pregunta {turn}")
        assert replies and "error" not in replies[0], replies

    try:
        for turn in range(args.turns + 1):
            tally = await meter.measure(partial(say, turn), args.quiet)
            scenarios["webchat first message" if turn == 0 else "webchat turn"].add(tally)
    finally:
        await visitor.close()


async def whatsapp(meter: Meter, scenarios: dict[str, Scenario], client: httpx.AsyncClient, base_url: str,
                   graph: GraphStandIn, wa_id: str, args: argparse.Namespace) -> None:
    async def post(turn: int) -> None:
        body = text_webhook(f"hola, pregunta {turn}", f"wamid.{uuid.uuid4().hex}", sender=wa_id)
        response = await client.post(f"{base_url}/webhooks/whatsapp", content=body, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": sign(SECRET, body)})
        assert response.status_code == 200, response.text
        await graph.arrived(lambda: len(graph.texts_to(wa_id)) > turn, what=f"the answer to {wa_id}")

    for turn in range(args.turns + 1):
        tally = await meter.measure(partial(post, turn), args.quiet)
        scenarios["whatsapp first message" if turn == 0 else "whatsapp text webhook"].add(tally)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5, help="customers on each channel")
    parser.add_argument("--turns", type=int, default=4, help="messages of each customer after the first")
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
