"""Failure drills' customers and their counts: webchat visitors and WhatsApp numbers writing through the balancer,
then what the cluster's database says happened to each message they sent."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio
from sqlalchemy import bindparam, text

from handoff.channels.whatsapp.signature import sign
from handoff.store.db import create_engine
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.whatsapp_webhooks import APP_SECRET, text_webhook


@dataclass
class Sent:
    """One customer message: the provider id the service stores it under, and whether the door said it has it."""

    provider_id: str
    channel: str
    acknowledged: bool = False


@dataclass
class ChatVisitor:
    """A widget whose visitor writes every `gap` seconds without waiting for answers, and that sends again what was
    not acknowledged after it reconnects, or after 30 s (same message_id: the service keeps one). Acknowledged:
    Socket.IO's ack of `user_uttered`, sent once the service has stored and handled the message."""

    base_url: str
    name: str
    sent: list[Sent] = field(default_factory=list)
    session_id: str | None = None
    reconnects: int = 0
    histories: list[tuple[int, int]] = field(default_factory=list)  # (messages in the history, acknowledged before)
    answers: list[dict[str, Any]] = field(default_factory=list)  # every bot_uttered received
    client: socketio.AsyncClient | None = None
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    history: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    emitted: dict[str, float] = field(default_factory=dict)  # message_id: when last sent

    async def connect(self, deadline: float) -> None:
        """A new connection through the balancer (retried while the balancer has no worker for it)."""
        while True:
            client = socketio.AsyncClient(reconnection=False)
            confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            client.on("session_confirm", lambda data, f=confirmed: f.done() or f.set_result(data["session_id"]))
            client.on("history", lambda data: self.history.put_nowait(len(data["messages"])))
            client.on("bot_uttered", lambda data: self.answers.append(data))
            client.on("disconnect", lambda *_: self.lost.set())
            try:
                await client.connect(self.base_url, socketio_path="socket.io", transports=["websocket"],
                                     headers={"Origin": self.base_url}, wait_timeout=10)
                self.lost.clear()
                await client.emit("session_request", {"session_id": self.session_id})
                session_id = await asyncio.wait_for(confirmed, 15)
                if self.session_id is not None:
                    assert session_id == self.session_id, "the service forgot a visitor's session after a reconnect"
                    acknowledged = sum(item.acknowledged for item in self.sent)
                    self.histories.append((await asyncio.wait_for(self.history.get(), 15), acknowledged))
                    self.reconnects += 1
            except (socketio.exceptions.ConnectionError, asyncio.TimeoutError, ValueError):
                await client.disconnect()
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
                continue
            self.session_id, self.client = session_id, client
            return

    async def emit(self, index: int, message: str) -> None:
        """Sends message `index` (again); its ack marks it acknowledged."""
        assert self.client is not None and self.session_id is not None
        message_id = f"{self.name}-{index}"
        item = self.sent[index]
        item.provider_id = f"{self.session_id}:{message_id}"
        self.emitted[message_id] = time.monotonic()
        try:
            await self.client.emit("user_uttered", {"message": message, "session_id": self.session_id,
                                                    "message_id": message_id},
                                   callback=lambda *_: setattr(item, "acknowledged", True))
        except socketio.exceptions.BadNamespaceError:
            self.lost.set()

    async def run(self, messages: list[str], gap: float, deadline: float) -> None:
        await self.connect(deadline)
        for index, message in enumerate(messages):
            self.sent.append(Sent("", "webchat"))
            if self.lost.is_set():
                await self.client.disconnect() if self.client else None
                await self.connect(deadline)
            await self.emit(index, message)
            await asyncio.sleep(gap)
        while time.monotonic() < deadline and not all(item.acknowledged for item in self.sent):
            stale = time.monotonic() - 30
            if self.lost.is_set():
                await self.client.disconnect() if self.client else None
                await self.connect(deadline)
                stale = time.monotonic()  # every unacknowledged message again, on the new connection
            for index, item in enumerate(self.sent):
                if not item.acknowledged and self.emitted[f"{self.name}-{index}"] < stale:
                    await self.emit(index, messages[index])
            await asyncio.sleep(0.5)
        if self.client is not None:
            await self.client.disconnect()


@dataclass
class WhatsAppNumber:
    """Meta, for one customer: each webhook posted until answered 200 (Meta retries anything else)."""

    base_url: str
    wa_id: str
    sent: list[Sent] = field(default_factory=list)
    refusals: Counter[int] = field(default_factory=Counter)  # statuses other than 200 (0: no answer)

    async def run(self, client: httpx.AsyncClient, messages: list[str], gap: float, deadline: float) -> None:
        for index, message in enumerate(messages):
            item = Sent(f"wamid.drill.{self.wa_id}.{index}.{uuid.uuid4().hex[:6]}", "whatsapp")
            self.sent.append(item)
            body = text_webhook(message, item.provider_id, sender=self.wa_id)
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)}
            while time.monotonic() < deadline:
                try:
                    status = (await client.post(f"{self.base_url}/webhooks/whatsapp", content=body,
                                                headers=headers, timeout=30)).status_code
                except httpx.HTTPError:
                    status = 0
                if status == 200:
                    item.acknowledged = True
                    break
                self.refusals[status] += 1
                await asyncio.sleep(0.5)
            await asyncio.sleep(gap)


@dataclass
class Counts:
    """What a drill prints and asserts."""

    sent: int
    acknowledged: int
    stored: int
    answered: int
    lost: int
    doubled: int
    detail: dict[str, Any]

    def line(self, drill: str) -> str:
        return (f"drill {drill}: sent {self.sent}, acknowledged {self.acknowledged}, stored {self.stored}, "
                f"answered {self.answered}, lost {self.lost}, doubled {self.doubled}; {self.detail}")


_EVENTS = text("""
    SELECT id, case_id, direction, actor, kind, provider_id, channel, payload FROM timeline_events
    WHERE case_id IN (SELECT case_id FROM timeline_events WHERE provider_id IN :ids)
    ORDER BY case_id, seq""").bindparams(bindparam("ids", expanding=True))
_PENDING = text("SELECT count(*) FROM pending_turns WHERE event_id IN :events").bindparams(
    bindparam("events", expanding=True))
_TRACKER_USER_EVENTS = text("""
    SELECT sender_id, count(*) FROM events WHERE type_name = 'user' AND sender_id IN :cases GROUP BY sender_id
    """).bindparams(bindparam("cases", expanding=True))


async def settle(database_url: str, sent: list[Sent], timeout: float = 240) -> int:
    """Waits until every acknowledged message is on a timeline (a webhook is processed after its 200) and none of
    the drill's stored messages still waits for its turn; how many are still missing or waiting at the end."""
    engine = create_engine(database_url)
    ids = [item.provider_id for item in sent]
    acknowledged = {item.provider_id for item in sent if item.acknowledged}
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with engine.connect() as connection:
                rows = [row for row in await connection.execute(_EVENTS, {"ids": ids}) if row.provider_id in set(ids)]
                waiting = await connection.scalar(_PENDING, {"events": [row.id for row in rows] or [-1]})
            missing = len(acknowledged - {row.provider_id for row in rows})
            if not (waiting or missing) or time.monotonic() > deadline:
                return int(waiting or 0) + missing
            await asyncio.sleep(1)
    finally:
        await engine.dispose()


async def count(database_url: str, tracker_url: str, sent: list[Sent], graph: GraphStandIn | None = None,
                visitors: list[ChatVisitor] | None = None) -> Counts:
    """Every sent message: stored once, answered once (an answer names the message it answers), never lost."""
    ids = [item.provider_id for item in sent]
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = list(await connection.execute(_EVENTS, {"ids": ids}))
    finally:
        await engine.dispose()
    stored = Counter(row.provider_id for row in rows if row.provider_id in set(ids))
    inbound = {row.id: row for row in rows if row.provider_id in stored}
    answers: dict[int, list[Any]] = {event_id: [] for event_id in inbound}
    for row in rows:
        answered = (row.payload or {}).get("answers") if row.direction == "out" else None
        if answered in answers:
            answers[answered].append(row)
    with_people = _with_people(rows)  # stored while people held the case: theirs to answer, not the assistant's
    left_with_people = sum(1 for event_id, found in answers.items() if not found and event_id in with_people)
    answered_once = [event_id for event_id, found in answers.items() if found or event_id in with_people]
    # one turn's answer never repeats a text: the same text twice for one message is a second answer
    doubled_answers = sum(1 for found in answers.values() if len({(r.actor, _text(r)) for r in found}) < len(found))
    by_assistant = sum(1 for found in answers.values() if any(r.actor == "bot" for r in found))
    handed_off = sum(1 for found in answers.values() if found and all(r.actor == "system" for r in found))
    lost = sum(1 for item in sent if item.acknowledged and item.provider_id not in stored)
    lost += sum(1 for event_id, found in answers.items() if not found and event_id not in with_people)
    cases = sorted({row.case_id for row in inbound.values()})
    asked = await _tracker_user_events(tracker_url, cases)
    inbound_per_case = Counter(row.case_id for row in rows if row.direction == "in" and row.kind == "message")
    asked_twice = sum(max(0, asked.get(case, 0) - inbound_per_case[case]) for case in cases)
    sends_doubled = _graph_doubles(graph, rows) if graph is not None else 0
    emits_doubled = sum(max(0, len(v.answers) - _outbound(rows, v.session_id)) for v in visitors or [])
    detail = {"stored_twice": sum(n - 1 for n in stored.values() if n > 1), "answers_doubled": doubled_answers,
              "assistant_asked_twice": asked_twice, "graph_sends_doubled": sends_doubled,
              "webchat_emits_doubled": emits_doubled, "answered_by_assistant": by_assistant,
              "handed_off": handed_off, "left_with_people": left_with_people}
    return Counts(sent=len(sent), acknowledged=sum(item.acknowledged for item in sent), stored=len(stored),
                  answered=len(answered_once), lost=lost,
                  doubled=detail["stored_twice"] + doubled_answers + sends_doubled + emits_doubled, detail=detail)


def _with_people(rows: list[Any]) -> set[int]:
    """Customer messages left to people: stored while a handoff to people was in force, or before a handoff made
    while their turn waited (the service's rule: one holding message per handoff, the messages then are people's).
    A turn lost to a crash is not among them: its pending row stays until a worker answers it (`settle`)."""
    found: set[int] = set()
    held: dict[str, bool] = {}
    waiting: dict[str, list[int]] = {}  # messages of a case stored since its last handoff
    for row in rows:  # in case and seq order
        if row.kind == "handoff":
            to_people = (row.payload or {}).get("direction") != "to_bot"
            held[row.case_id] = to_people
            if to_people:
                found.update(waiting.pop(row.case_id, []))
            waiting[row.case_id] = []
        elif row.direction == "in" and row.kind == "message":
            if held.get(row.case_id):
                found.add(row.id)
            waiting.setdefault(row.case_id, []).append(row.id)
    return found


def _text(row: Any) -> str:
    payload = row.payload or {}
    return str(payload.get("text") or payload)


def _outbound(rows: list[Any], session_id: str | None) -> int:
    """Messages on a visitor's case(s) that went out on the webchat."""
    cases = {row.case_id for row in rows if session_id and (row.provider_id or "").startswith(f"{session_id}:")}
    return sum(1 for row in rows if row.case_id in cases and row.direction == "out" and row.kind == "message"
               and row.channel == "webchat")


def _graph_doubles(graph: GraphStandIn, rows: list[Any]) -> int:
    """Messages the Graph API received beyond those on the timelines: an outbox row sent twice."""
    outbound = Counter(row.case_id for row in rows if row.direction == "out" and row.kind == "message"
                       and row.channel == "whatsapp")
    numbers = {}
    for row in rows:
        if row.direction == "in" and row.channel == "whatsapp" and (row.provider_id or "").startswith("wamid.drill."):
            numbers[row.provider_id.split(".")[2]] = row.case_id
    sends = Counter(body.get("to") for body in graph.sends())
    return sum(max(0, sends[number] - outbound[case]) for number, case in numbers.items())


async def _tracker_user_events(tracker_url: str, cases: list[str]) -> dict[str, int]:
    """How many customer messages Rasa's shared tracker store holds per conversation (case id)."""
    if not cases:
        return {}
    engine = create_engine(tracker_url)
    try:
        async with engine.connect() as connection:
            return {str(row[0]): int(row[1]) for row in await connection.execute(_TRACKER_USER_EVENTS,
                                                                                  {"cases": cases})}
    finally:
        await engine.dispose()


async def burst(base_url: str, *, visitors: int, numbers: int, per_customer: int, message: str, gap: float,
                seconds: float, during: Callable[[Callable[[], list[Sent]]], Awaitable[None]],
                prefix: str) -> tuple[list[ChatVisitor], list[WhatsAppNumber]]:
    """`visitors` widgets and `numbers` WhatsApp customers write `per_customer` messages each through the
    balancer, while `during(sent so far)` breaks something; returns once all are done or `seconds` passed."""
    deadline = time.monotonic() + seconds
    chats = [ChatVisitor(base_url, f"{prefix}v{index}") for index in range(visitors)]
    phones = [WhatsAppNumber(base_url, f"1650{prefix_digits(prefix)}{index:04d}") for index in range(numbers)]

    def sent() -> list[Sent]:
        return [item for customer in [*chats, *phones] for item in customer.sent]

    limits = httpx.Limits(max_connections=numbers + 10)
    async with httpx.AsyncClient(limits=limits) as client:
        writers = [asyncio.create_task(chat.run([message] * per_customer, gap, deadline)) for chat in chats]
        writers += [asyncio.create_task(phone.run(client, [message] * per_customer, gap, deadline))
                    for phone in phones]
        breaker = asyncio.create_task(during(sent))
        await asyncio.wait(writers, timeout=seconds + 60)
        await breaker
        for writer in writers:
            if not writer.done():
                writer.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
    return chats, phones


def prefix_digits(prefix: str) -> str:
    """Three digits per drill, so each drill's customers are new numbers."""
    return f"{sum(map(ord, prefix)) % 1000:03d}"
