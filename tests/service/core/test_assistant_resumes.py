"""A case handed to people only because the assistant was down goes back to it when the customer writes again and
the assistant answers; still down, the message stays with people (no second holding message, no second handoff);
a case a person took, or handed off for another reason, is never taken back."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from handoff.core import audit
from handoff.core.assignment import assign
from handoff.core.bot_client import RasaClient
from handoff.core.claims import LEASE
from handoff.core.conversation import Conversations
from handoff.core.events import CaseChanged, CaseEvent, MessageStored, Subscription
from handoff.core.handoffs import current_handoff, resumes_with_assistant, withdraw_handoff
from handoff.core.messages import InboundMessage, OutboundMessage
from handoff.core.operations import load_operations
from handoff.core.timeline import case_events, verify_case
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Agent, Case, Handoff, PendingTurn, utcnow

VISITOR = "visitor-r"


@dataclass
class Assistant:
    """Rasa's REST channel that can be switched off (connection refused) and on again."""

    down: bool = False
    asked: list[str] = field(default_factory=list)
    answer: list[dict[str, Any]] | None = None  # instead of echoing the message
    silent: bool = False  # Rasa's REST channel when its tracker store's database is away: 200, no reply

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path.endswith("/tracker"):
            return httpx.Response(200, json={"slots": {"language": "es"}})
        message = json.loads(request.content)["message"]
        self.asked.append(message)
        if self.silent:
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=self.answer or [{"text": f"Recibido: {message}"}])


@dataclass
class Widget:
    """The webchat door as the service sees it: what was pushed to the visitor, typing included."""

    staged_status = None

    delivered: list[OutboundMessage] = field(default_factory=list)
    typing_on: int = 0

    def address_for(self, identity_kind: str, value: str) -> str | None:
        return value

    async def stage(self, session: Any, event: Any, address: str, message: OutboundMessage) -> None:
        return None

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        self.delivered.append(message)

    async def typing(self, address: str, actor: str, on: bool) -> None:
        self.typing_on += int(on)


@dataclass
class Heard:
    """The domain events the inbox would react to."""

    events: list[CaseEvent] = field(default_factory=list)

    def subscriptions(self) -> list[Subscription[Any]]:
        return [Subscription(CaseChanged, self.hear), Subscription(MessageStored, self.hear)]

    async def hear(self, event: CaseEvent) -> None:
        self.events.append(event)


@dataclass
class Door:
    conversations: Conversations
    assistant: Assistant
    widget: Widget
    heard: Heard

    async def say(self, text: str, *, process: bool = True) -> str:
        """One visitor message; returns its case id. `process=False`: stored, then the process stops (a crash)."""
        self.widget.delivered.clear()
        received = await self.conversations.receive(InboundMessage(
            channel="webchat", identity_kind="webchat", identity_value=VISITOR, address=VISITOR, text=text,
            bot_input=text, language="es"))
        assert received.case_id is not None
        if process and received.to_bot and received.event_id is not None:
            await self.conversations.process(received.event_id, received.turn)
        return received.case_id


@pytest.fixture
async def door(sessions) -> Door:
    assistant, widget, heard = Assistant(), Widget(), Heard()
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(assistant.handler)))
    services = build_services(sessions, load_operations(REPO_ROOT / "operations.yml"), bot, {"webchat": widget},
                              [heard])
    yield Door(services.conversations, assistant, widget, heard)
    await bot.aclose()


async def held_by_people(door: Door) -> str:
    """The visitor talked to the assistant, then wrote while it was down: holding message, queued."""
    case_id = await door.say("hola")
    door.assistant.down = True
    assert await door.say("donde esta mi pedido?") == case_id
    assert [m.actor for m in door.widget.delivered] == ["system", "system"]  # holding message + queue notice
    return case_id


async def transitions(door: Door, case_id: str) -> list[tuple[str, str, str | None]]:
    async with door.conversations.sessions() as session:
        rows = await session.scalars(select(Handoff).where(Handoff.case_id == case_id).order_by(Handoff.id))
        return [(row.direction, row.reason, row.outcome) for row in rows]


async def status(door: Door, case_id: str) -> str:
    async with door.conversations.sessions() as session:
        return (await session.get_one(Case, case_id)).status


def test_only_a_queue_entry_made_because_the_assistant_was_down_and_no_one_took_is_taken_back() -> None:
    def case(status: str = "queued", assignee: str | None = None) -> Case:
        return Case(id="c1", status=status, assignee_id=assignee)

    def handoff(reason: str = "bot_unavailable", **extra: Any) -> Handoff:
        return Handoff(case_id="c1", direction="to_human", reason=reason, **extra)

    assert resumes_with_assistant(case(), handoff())
    assert not resumes_with_assistant(case(), None)
    assert not resumes_with_assistant(case("assigned", "a1"), handoff())  # offered to an agent
    assert not resumes_with_assistant(case(assignee="a1"), handoff())
    assert not resumes_with_assistant(case(), handoff(accepted_at=object()))  # a person accepted it
    assert not resumes_with_assistant(case(), handoff(ended_at=object()))
    for reason in ("explicit_request", "complex_intent", "agent_takeover", "transfer", "no_input"):
        assert not resumes_with_assistant(case(), handoff(reason))
    assert not resumes_with_assistant(case(), Handoff(case_id="c2", direction="to_human", reason="bot_unavailable"))
    for status_now in ("bot", "resolved", "abandoned"):
        assert not resumes_with_assistant(case(status_now), handoff())


async def test_back_before_anyone_took_the_case_the_assistant_answers_and_holds_it_again(door: Door) -> None:
    case_id = await held_by_people(door)
    door.assistant.down = False
    door.heard.events.clear()

    assert await door.say("sigo esperando") == case_id
    assert [(m.actor, m.text) for m in door.widget.delivered] == [("bot", "Recibido: sigo esperando")]
    assert door.assistant.asked[-1] == "sigo esperando" and await status(door, case_id) == "bot"
    assert await transitions(door, case_id) == [("to_human", "bot_unavailable", "withdrawn"),
                                                ("to_bot", "bot_available", "returned_to_bot")]
    async with door.conversations.sessions() as session:
        events = await case_events(session, case_id)
        assert (await verify_case(session, case_id)).ok and (await audit.verify(session)).ok
        logged = await audit.entries(session, case_id)
        assert (await session.scalars(select(PendingTurn))).all() == []
        case = await session.get_one(Case, case_id)
    back = [e for e in events if e.kind == "handoff"][-1]
    assert (back.actor, back.text, back.payload["direction"]) == ("system", "returned to the assistant: it is back",
                                                                  "to_bot")
    assert [(e.actor, e.text) for e in events][-3:] == [("customer", "sigo esperando"), ("system", back.text),
                                                        ("bot", "Recibido: sigo esperando")]
    assert [(entry.actor, entry.action) for entry in logged] == [("system", "handoff_withdrawn")]
    assert case.queued_at is None and case.first_response_due_at is None and case.handoff_count == 1
    # The inbox saw the message while the case was in its queue, then the case leave the queue.
    assert door.heard.events == [MessageStored(case_id, events[-3].id, "webchat", False), CaseChanged(case_id)]

    door.widget.delivered.clear()
    await door.say("gracias")  # from now on, the usual turns
    assert [(m.actor, m.text) for m in door.widget.delivered] == [("bot", "Recibido: gracias")]


async def test_still_down_the_message_stays_with_people_without_a_second_holding_message(door: Door) -> None:
    case_id = await held_by_people(door)
    typing_before = door.widget.typing_on

    assert await door.say("hola?") == case_id
    assert door.widget.delivered == [] and door.widget.typing_on == typing_before  # nothing said, no "typing"
    assert await status(door, case_id) == "queued"
    assert await transitions(door, case_id) == [("to_human", "bot_unavailable", None)]  # no second handoff
    async with door.conversations.sessions() as session:
        assert (await session.scalars(select(PendingTurn))).all() == []
        system = [e.kind for e in await case_events(session, case_id) if e.actor == "system"]
        assert sorted(system) == ["handoff", "message", "message", "routing"]  # one handoff, its routing, 2 notices

    door.assistant.down = False  # back later: the next message still returns the case to it
    await door.say("y ahora?")
    assert [m.text for m in door.widget.delivered] == ["Recibido: y ahora?"] and await status(door, case_id) == "bot"


async def test_a_case_an_agent_took_is_never_taken_back(door: Door) -> None:
    case_id = await held_by_people(door)
    door.assistant.down = False
    async with door.conversations.sessions() as session, session.begin():
        agent = Agent(email="ana@example.com", display_name="Ana", password_hash="x", teams=["care"])
        session.add(agent)
        await session.flush()
        await assign(session, await session.get_one(Case, case_id), agent, actor="system", accept=False)
    asked = len(door.assistant.asked)

    await door.say("hay alguien?")
    assert door.widget.delivered == [] and len(door.assistant.asked) == asked  # not even asked
    assert await status(door, case_id) == "assigned"
    assert await transitions(door, case_id) == [("to_human", "bot_unavailable", None)]


async def test_a_case_handed_off_for_another_reason_is_never_taken_back(door: Door) -> None:
    case_id = await door.say("hola")
    door.assistant.answer = [{"text": "Te paso con una persona."},
                             {"custom": {"handoff": {"reason": "explicit_request", "intent": "request_human"}}}]
    await door.say("quiero hablar con una persona")
    door.assistant.answer = None
    asked = len(door.assistant.asked)

    await door.say("hola?")
    assert door.widget.delivered == [] and len(door.assistant.asked) == asked
    assert await status(door, case_id) == "queued"
    assert await transitions(door, case_id) == [("to_human", "explicit_request", None)]


async def test_an_agent_taking_the_case_while_the_assistant_thinks_keeps_it(door: Door) -> None:
    case_id = await held_by_people(door)
    door.assistant.down = False
    received = await door.conversations.receive(InboundMessage(
        channel="webchat", identity_kind="webchat", identity_value=VISITOR, address=VISITOR, text="hola?",
        bot_input="hola?", language="es"))
    assert received.to_bot and received.turn is not None and received.turn.resuming
    assert await status(door, case_id) == "queued"  # people's until the assistant has answered
    async with door.conversations.sessions() as session, session.begin():
        agent = Agent(email="ben@example.com", display_name="Ben", password_hash="x", teams=["care"])
        session.add(agent)
        await session.flush()
        await assign(session, await session.get_one(Case, case_id), agent, actor="system", accept=True)
    door.widget.delivered.clear()

    assert received.event_id is not None
    await door.conversations.process(received.event_id, received.turn)
    assert door.widget.delivered == [] and await status(door, case_id) == "assigned"  # the answer is not sent
    assert await transitions(door, case_id) == [("to_human", "bot_unavailable", None)]


async def test_a_resumed_turn_cut_by_a_crash_is_replayed_and_takes_the_case_back(door: Door) -> None:
    case_id = await held_by_people(door)
    door.assistant.down = False
    await door.say("sigo aqui", process=False)  # stored, then the process died
    async with door.conversations.sessions() as session:
        assert len((await session.scalars(select(PendingTurn))).all()) == 1
    assert await status(door, case_id) == "queued"  # in people's queue while the turn waits

    assert await door.conversations.replay_pending(now=utcnow() + LEASE) == 1  # once the dead worker's lease lapsed
    assert [m.text for m in door.widget.delivered] == ["Recibido: sigo aqui"] and await status(door, case_id) == "bot"
    assert (await transitions(door, case_id))[0] == ("to_human", "bot_unavailable", "withdrawn")


async def test_each_answer_names_the_message_it_answers_the_holding_message_too(door: Door) -> None:
    """What the failure drills count: a message answered once has its answers, and only those, pointing at it."""
    case_id = await held_by_people(door)  # "hola" answered by the assistant, then the holding message
    door.assistant.down = False
    await door.say("sigo esperando")
    async with door.conversations.sessions() as session:
        events = await case_events(session, case_id)
    asked = {e.text: e.id for e in events if e.direction == "in"}
    answering = [(e.actor, e.payload.get("answers")) for e in events if e.direction == "out" and e.kind == "message"
                 and "answers" in e.payload]
    assert answering == [("bot", asked["hola"]), ("system", asked["donde esta mi pedido?"]),
                         ("bot", asked["sigo esperando"])]


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_a_message_arriving_while_the_assistant_takes_the_case_back_still_gets_its_turn(door: Door) -> None:
    """Another worker's turn takes the case back while this message waits for the case's lock (PostgreSQL's row
    lock; SQLite's writer lock from BEGIN has no such window): the message is the assistant's, not no one's."""
    case_id = await held_by_people(door)
    door.assistant.down = False
    async with door.conversations.sessions() as session:
        await session.begin()
        case = await session.get_one(Case, case_id, with_for_update=True)
        held = await current_handoff(session, case_id)
        assert held is not None
        await withdraw_handoff(session, case, held)  # the take-back, not committed yet
        receiving = asyncio.create_task(door.conversations.receive(InboundMessage(
            channel="webchat", identity_kind="webchat", identity_value=VISITOR, address=VISITOR, text="sigo aqui",
            bot_input="sigo aqui", language="es")))
        await asyncio.sleep(1.0)
        assert not receiving.done()  # read the case as queued, now waiting for its lock
        await session.commit()
    received = await asyncio.wait_for(receiving, 30)
    assert received.to_bot and received.turn is not None and not received.turn.resuming
    door.widget.delivered.clear()
    assert received.event_id is not None
    await door.conversations.process(received.event_id, received.turn)
    assert [(m.actor, m.text) for m in door.widget.delivered] == [("bot", "Recibido: sigo aqui")]
    assert await status(door, case_id) == "bot"


async def test_a_turn_rasa_failed_inside_is_answered_with_the_holding_message_not_dropped(door: Door) -> None:
    """What the store-restart drill lost: Rasa answered 200 and nothing while PostgreSQL (its tracker store) was
    away, and the turn was recorded as answered with no message. Now the customer is told and people hold it."""
    case_id = await door.say("hola")
    door.assistant.silent = True
    await door.say("donde esta mi pedido?")
    assert [m.actor for m in door.widget.delivered] == ["system", "system"]  # holding message + queue notice
    assert await transitions(door, case_id) == [("to_human", "bot_unavailable", None)]
    async with door.conversations.sessions() as session:
        assert (await session.scalars(select(PendingTurn))).all() == []
        events = await case_events(session, case_id)
    asked = [e.id for e in events if e.direction == "in"][-1]
    assert [e.actor for e in events if e.direction == "out" and e.payload.get("answers") == asked][:1] == ["system"]
    door.assistant.silent = False  # the store is back: the next message returns the case to the assistant
    await door.say("hola?")
    assert [m.text for m in door.widget.delivered] == ["Recibido: hola?"] and await status(door, case_id) == "bot"
