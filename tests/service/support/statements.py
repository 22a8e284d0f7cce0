"""Counting what the database is asked, by the service code that asks: SQLAlchemy engine and pool events.

For bench/statements.py and the tests that bound a turn's statements: each statement, BEGIN and pool checkout of
every engine in this process is counted under (the outermost handoff function on the stack: the activity, the
innermost: the caller), following the stack past SQLAlchemy's greenlet into the coroutines that awaited it.
"""
from __future__ import annotations

import asyncio
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from types import FrameType
from typing import Any

import httpx
from greenlet import getcurrent
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from handoff.channels.whatsapp.signature import sign
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.webchat_client import Visitor
from tests.service.support.whatsapp_webhooks import text_webhook

_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)
_NESTED = re.compile(r"\([^()]*\)")
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
    outer = sql
    while (inner := _NESTED.sub("", outer)) != outer:  # subqueries out: the table of the statement itself
        outer = inner
    table = _TABLE.search(outer)
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

    def count(self, activity: str) -> tuple[int, int]:
        """(statements, transactions) of one activity (`channels/webchat/channel:on_user_uttered`)."""
        return (sum(n for (outer, _caller, _kind), n in self.statements.items() if outer == activity),
                sum(n for (outer, _caller), n in self.begins.items() if outer == activity))


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


WEBCHAT = "channels/webchat/channel:on_user_uttered"  # a webchat turn, received and answered
WHATSAPP = ("channels/whatsapp/ingest:_guarded", "core/webhook_store:_write")  # a webhook stored, then processed


async def webchat_turns(meter: Meter, base_url: str, turns: int, quiet: float) -> list[Tally]:
    """One visitor's messages, one at a time, each counted up to its answer and `quiet` seconds of silence."""
    visitor = Visitor(base_url)
    await visitor.connect()

    async def say(turn: int) -> None:
        replies = await visitor.say(f"hola, pregunta {turn}")
        assert replies and "error" not in replies[0], replies

    try:
        return [await meter.measure(partial(say, turn), quiet) for turn in range(turns)]
    finally:
        await visitor.close()


async def whatsapp_turns(meter: Meter, client: httpx.AsyncClient, base_url: str, graph: GraphStandIn, secret: str,
                         wa_id: str, turns: int, quiet: float) -> list[Tally]:
    """One customer's signed text webhooks, one at a time, each counted up to its answer at the Graph stand-in and
    `quiet` seconds of silence (the outbox's record of the send included)."""
    async def post(turn: int) -> None:
        body = text_webhook(f"hola, pregunta {turn}", f"wamid.{uuid.uuid4().hex}", sender=wa_id)
        response = await client.post(f"{base_url}/webhooks/whatsapp", content=body, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, body)})
        assert response.status_code == 200, response.text
        await graph.arrived(lambda: len(graph.texts_to(wa_id)) > turn, what=f"the answer to {wa_id}")

    return [await meter.measure(partial(post, turn), quiet) for turn in range(turns)]
