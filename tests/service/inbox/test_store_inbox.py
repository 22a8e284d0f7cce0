"""The inbox services over a real SQLite and PostgreSQL: transitions, routing, draining, audit chain."""
from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from handoff.core import audit
from handoff.core.agents import NewAgent, create_agent
from handoff.core.assignment import queue_position
from handoff.core.bot_client import RasaClient
from handoff.core.events import (
    Assigned,
    CaseChanged,
    CaseEvent,
    EventsAdded,
    HandedOff,
    MessageStored,
    Resolved,
    Subscription,
)
from handoff.core.messages import ChannelRefused, InboundMessage, OutboundMessage
from handoff.core.operations import load_operations
from handoff.core.sweeper import AbandonSweeper
from handoff.core.timeline import verify_case
from handoff.inbox.actions import InboxActions, InboxError
from handoff.inbox.auth import Principal
from handoff.reports import nlu_samples
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Agent, AuditEntry, Case, Handoff, TimelineEvent, utcnow

OPERATIONS = load_operations(REPO_ROOT / "operations.yml")
HANDOFF = {"handoff": {"reason": "complex_intent", "intent": "return_request", "confidence": 0.97,
                       "summary": "Quiere devolver el pedido 100003", "slots": {"order_number": "100003"},
                       "team": "returns"}}


class Recorder:
    staged_status = None

    def __init__(self) -> None:
        self.delivered: list[tuple[str, OutboundMessage]] = []
        self.refusing: str | None = None  # set: stage refuses agents' messages, as WhatsApp does after 24 hours

    def address_for(self, identity_kind: str, value: str) -> str | None:
        return value if identity_kind == "webchat" else None

    async def stage(self, session, event, address: str, message: OutboundMessage) -> None:
        if self.refusing and message.actor == "agent":
            raise ChannelRefused(self.refusing)

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        self.delivered.append((address, message))

    async def typing(self, address: str, actor: str, on: bool) -> None:
        return None


def rasa(request: httpx.Request) -> httpx.Response:
    """Hands off on 'devolver', answers anything else."""
    if request.url.path.endswith("/tracker"):
        return httpx.Response(200, json={"slots": {"language": "es"}})
    message = json.loads(request.content)["message"]
    if "devolver" in message:
        return httpx.Response(200, json=[{"text": "Te paso con Devoluciones"}, {"custom": HANDOFF}])
    if message.endswith("???"):
        missed = {"handoff": {"reason": "repeated_fallback", "intent": "nlu_fallback", "confidence": 0.31}}
        return httpx.Response(200, json=[{"text": "Te paso con una persona"}, {"custom": missed}])
    return httpx.Response(200, json=[{"text": "Abrimos a las 9:00"}])


class Heard:
    """A listener on the app's bus that keeps every domain event, in order."""

    def __init__(self) -> None:
        self.events: list[CaseEvent] = []

    def subscriptions(self) -> list[Subscription]:
        kinds = (MessageStored, HandedOff, Assigned, Resolved, CaseChanged, EventsAdded)
        return [Subscription(kind, self.hear) for kind in kinds]

    async def hear(self, event: CaseEvent) -> None:
        self.events.append(event)

    def since(self, mark: int) -> list[str]:
        return [type(event).__name__ for event in self.events[mark:]]


class World:
    def __init__(self, sessions) -> None:
        self.sessions = sessions
        self.webchat = Recorder()
        self.bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                              client=httpx.AsyncClient(transport=httpx.MockTransport(rasa)))
        self.heard = Heard()
        services = build_services(sessions, OPERATIONS, self.bot, {"webchat": self.webchat}, [self.heard])
        self.conversations, self.queues = services.conversations, services.queues
        self.actions = InboxActions(sessions, OPERATIONS, {"webchat": self.webchat}, services.events, self.queues)
        self.sweeper = AbandonSweeper(sessions, services.events, timedelta(hours=1))

    async def say(self, text: str, visitor: str = "visitor-1") -> str:
        received = await self.conversations.receive(InboundMessage(
            channel="webchat", identity_kind="webchat", identity_value=visitor, address=visitor, text=text,
            bot_input=text, language="es"))
        if received.to_bot:
            await self.conversations.process(received.event_id)
        return received.case_id

    async def agent(self, email: str, teams=("returns",), capacity: int = 3, online: bool = True) -> Principal:
        async with self.sessions() as session, session.begin():
            agent = await create_agent(session, NewAgent(email, email.split("@")[0], "agent", teams,
                                                         "a long password", capacity), OPERATIONS.teams)
            agent.presence = "online" if online else "offline"
        await self.queues.drain()
        return Principal(agent, "session", "csrf")

    async def case(self, case_id: str) -> Case:
        async with self.sessions() as session:
            return await session.get(Case, case_id)

    async def handoffs(self, case_id: str) -> list[tuple[str, str, str | None]]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Handoff).where(Handoff.case_id == case_id).order_by(Handoff.id))
            return [(row.direction, row.reason, row.outcome) for row in rows]


async def test_bot_human_bot_human_is_all_kept_and_verifiable(sessions) -> None:
    world = World(sessions)
    case_id = await world.say("quiero devolver mi pedido")
    assert (await world.case(case_id)).status == "queued"
    told = [m.text for _a, m in world.webchat.delivered]
    assert "Te paso con Devoluciones" in told and any("número 1 en la fila" in t for t in told), told
    assert world.heard.since(0) == ["MessageStored", "HandedOff", "CaseChanged"]  # published after the commits
    handed = world.heard.events[1]
    assert isinstance(handed, HandedOff) and (handed.case_id, handed.intent, handed.confidence, handed.team) == \
        (case_id, "return_request", 0.97, "returns")

    mark = len(world.heard.events)
    ana = await world.agent("ana@example.com")
    assert (await world.case(case_id)).assignee_id == ana.agent.id  # drained when she came online
    assert world.heard.since(mark) == ["Assigned", "CaseChanged"]
    mark = len(world.heard.events)
    await world.actions.reply(ana, case_id, "Hola, soy Ana")
    assert world.heard.since(mark) == ["EventsAdded", "CaseChanged"]
    assert any(m.custom.get("agent_joined") == "ana" for _a, m in world.webchat.delivered)
    await world.actions.return_to_assistant(ana, case_id)
    assert (await world.case(case_id)).status == "bot"
    await world.say("a que hora abren?")
    assert world.webchat.delivered[-1][1].text == "Abrimos a las 9:00"  # the assistant answers again
    await world.say("y quiero devolver otra cosa")
    case = await world.case(case_id)
    assert case.status == "assigned" and case.assignee_id == ana.agent.id and case.handoff_count == 2
    mark = len(world.heard.events)
    await world.actions.resolve(ana, case_id, "return_authorized")
    assert world.heard.since(mark) == ["Resolved", "EventsAdded", "CaseChanged"]
    assert await world.handoffs(case_id) == [("to_human", "complex_intent", "returned_to_bot"),
                                             ("to_bot", "returned_by_agent", "returned_to_bot"),
                                             ("to_human", "complex_intent", "resolved")]
    async with sessions() as session:
        second = (await session.scalars(select(Handoff).where(Handoff.case_id == case_id).order_by(Handoff.id)))
        bot_turns = [row.bot_turns for row in second]
        assert (await verify_case(session, case_id)).ok and (await audit.verify(session)).ok
        kinds = [e.kind for e in await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id)
                                                      .order_by(TimelineEvent.seq))]
    assert bot_turns[0] == 1 and bot_turns[2] == 2  # counted since the case came back to the assistant
    assert kinds.count("handoff") == 3 and "assignment" in kinds and "status" in kinds
    await world.bot.aclose()


async def test_freed_capacity_takes_the_next_case_from_the_queue(sessions) -> None:
    world = World(sessions)
    luis = await world.agent("luis@example.com", capacity=1)
    first = await world.say("quiero devolver algo", visitor="v1")
    second = await world.say("quiero devolver otra cosa", visitor="v2")
    assert (await world.case(first)).assignee_id == luis.agent.id
    assert (await world.case(second)).status == "queued"
    await world.actions.resolve(luis, first, "resolved")
    assert (await world.case(second)).assignee_id == luis.agent.id
    await world.bot.aclose()


async def test_an_agent_can_take_over_a_bot_conversation_and_transfer_it(sessions) -> None:
    world = World(sessions)
    case_id = await world.say("hola")
    assert (await world.case(case_id)).status == "bot"
    eva = await world.agent("eva@example.com", teams=("care",))
    await world.actions.accept(eva, case_id)
    case = await world.case(case_id)
    assert case.status == "assigned" and case.assignee_id == eva.agent.id and case.team == "care"
    await world.actions.transfer(eva, case_id, team="fraud")
    case = await world.case(case_id)
    assert case.status == "queued" and case.team == "fraud" and case.assignee_id is None
    assert await world.handoffs(case_id) == [("to_human", "agent_takeover", "transferred"),
                                             ("to_human", "transfer", None)]
    try:
        await world.actions.note(eva, case_id, "ya no es mio")
    except InboxError as refused:
        assert refused.status == 403
    else:
        raise AssertionError("an agent outside the team worked the case")
    await world.bot.aclose()


async def test_a_misunderstood_handoff_reaches_the_designers_through_the_apps_listeners(sessions) -> None:
    world = World(sessions)
    await world.say("mi caja llego aplastada")
    case_id = await world.say("la caja ???")
    async with sessions() as session:
        samples = await nlu_samples.review_list(session)
    assert [(s["case_id"], s["source"], s["text"], s["predicted_intent"]) for s in samples] == \
        [(case_id, "nlu_fallback", "la caja ???", "nlu_fallback")]
    await world.bot.aclose()


async def test_queue_position_counts_higher_priority_then_longer_waits_of_the_same_team(sessions) -> None:
    world = World(sessions)
    early, late, vip, other = [await world.say("quiero devolver algo", visitor=f"v{n}") for n in range(4)]
    async with sessions() as session, session.begin():
        await session.execute(update(Case).where(Case.id == vip).values(priority=5))
        await session.execute(update(Case).where(Case.id == other).values(team="fraud"))
    async with sessions() as session:
        positions = [await queue_position(session, await session.get(Case, case_id))
                     for case_id in (vip, early, late, other)]
    assert positions == [1, 2, 3, 1]
    told = [m.text or "" for _a, m in world.webchat.delivered]  # nobody online: the overflow offer says where
    assert [any(f"número {n} en la fila" in t for t in told) for n in (1, 2, 3, 4)] == [True, True, True, True]
    await world.bot.aclose()


async def test_the_audit_log_is_a_verifiable_chain(sessions) -> None:
    async with sessions() as session, session.begin():
        for number in range(5):
            await audit.record(session, "agent:x", "reply", case_id="c1", n=number)
    async with sessions() as session:
        assert (await audit.verify(session)).ok
    async with sessions() as session, session.begin():
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="agent:y"))
    async with sessions() as session:
        check = await audit.verify(session)
    assert not check.ok and check.seq == 3


async def test_a_case_left_waiting_by_a_silent_customer_ends_abandoned(sessions) -> None:
    world = World(sessions)
    case_id = await world.say("quiero devolver esto")
    assert await world.sweeper.sweep() == 0  # the customer just wrote
    mark = len(world.heard.events)
    assert await world.sweeper.sweep(timedelta(0)) == 1
    assert world.heard.since(mark) == ["CaseChanged"]
    assert (await world.case(case_id)).status == "abandoned"
    assert await world.handoffs(case_id) == [("to_human", "complex_intent", "abandoned")]
    await world.bot.aclose()


async def test_a_reply_the_channel_refuses_is_a_409_with_its_reason_and_stores_nothing(sessions) -> None:
    world = World(sessions)
    case_id = await world.say("quiero devolver mi pedido")
    ana = await world.agent("ana@example.com")
    world.webchat.refusing = "only approved templates now"
    async with sessions() as session:
        before = len(list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id))))
    try:
        await world.actions.reply(ana, case_id, "Hola, soy Ana")
    except InboxError as refused:
        assert (refused.status, str(refused)) == (409, "only approved templates now")
    else:
        raise AssertionError("a refused reply went through")
    async with sessions() as session:
        after = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id)))
        assert len(after) == before and (await verify_case(session, case_id)).ok
    await world.bot.aclose()


async def routing_rows(sessions, case_id: str) -> tuple[list[tuple[str | None, str | None]], list[dict]]:
    """The decisions on the case's handoffs, and the routing events of its timeline."""
    async with sessions() as session:
        handoffs = await session.scalars(select(Handoff).where(Handoff.case_id == case_id,
                                                               Handoff.direction == "to_human").order_by(Handoff.id))
        decisions = [(row.decision, row.decision_reason) for row in handoffs]
        events = await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id,
                                                                   TimelineEvent.kind == "routing")
                                       .order_by(TimelineEvent.seq))
        return decisions, [event.payload for event in events]


async def test_the_decision_and_its_reason_are_on_the_handoff_and_the_timeline(sessions) -> None:
    world = World(sessions)
    nobody = await world.say("quiero devolver mi pedido", visitor="v-decisions")
    decisions, events = await routing_rows(sessions, nobody)
    assert decisions == [("overflow", "nobody_online")]
    assert events[0]["decision"] == "overflow" and events[0]["reason"] == "nobody_online"
    assert events[0]["offers"] == ["wait", "assistant"]  # an anonymous visitor: no WhatsApp, no number to ring
    rosa = await world.agent("rosa@example.com")
    assert (await world.case(nobody)).assignee_id == rosa.agent.id  # drained when she came online
    second = await world.say("quiero devolver otra cosa", visitor="v-decisions-2")
    assert (await routing_rows(sessions, second))[0] == [("assign", "free_agent")]
    await world.bot.aclose()


async def test_a_follow_up_goes_back_to_its_agent_while_a_less_busy_colleague_is_online(sessions) -> None:
    world = World(sessions)
    first = await world.say("quiero devolver mi pedido", visitor="v-sticky")
    ana = await world.agent("ana-sticky@example.com", capacity=2)
    assert (await world.case(first)).assignee_id == ana.agent.id
    await world.actions.resolve(ana, first, "return_authorized")
    other = await world.say("quiero devolver algo", visitor="v-other")  # ana now holds one case …
    assert (await world.case(other)).assignee_id == ana.agent.id
    bea = await world.agent("bea-sticky@example.com", capacity=2)  # … and bea none: the less busy
    again = await world.say("quiero devolver otra vez", visitor="v-sticky")  # a recontact within the window
    case = await world.case(again)
    assert case.id != first and case.previous_case_id == first
    assert case.assignee_id == ana.agent.id != bea.agent.id
    assert (await routing_rows(sessions, again))[0] == [("assign", "follow_up_agent")]
    await world.bot.aclose()


async def test_a_follow_up_whose_agent_is_full_is_held_for_them_then_goes_to_the_team(sessions) -> None:
    world = World(sessions)
    first = await world.say("quiero devolver mi pedido", visitor="v-held")
    ana = await world.agent("ana-held@example.com", capacity=1)
    await world.actions.resolve(ana, first, "return_authorized")
    busy = await world.say("quiero devolver algo", visitor="v-busy")
    assert (await world.case(busy)).assignee_id == ana.agent.id  # ana is full now
    bea = await world.agent("bea-held@example.com", capacity=2)
    again = await world.say("quiero devolver otra vez", visitor="v-held")
    case = await world.case(again)
    assert (case.status, case.held_for_id) == ("queued", ana.agent.id) and case.held_until is not None
    assert (await routing_rows(sessions, again))[0] == [("hold", "follow_up_agent_busy")]
    assert "te atendió la última vez" in world.webchat.delivered[-1][1].text
    await world.queues.drain()  # bea is free, but the hold is ana's
    assert (await world.case(again)).status == "queued"
    async with sessions() as session, session.begin():  # the hold runs out
        await session.execute(update(Case).where(Case.id == again).values(held_until=utcnow() - timedelta(seconds=1)))
    assert await world.queues.release_holds() == [(again, bea.agent.id)]
    case = await world.case(again)
    assert (case.assignee_id, case.held_for_id, case.held_until) == (bea.agent.id, None, None)
    await world.bot.aclose()


async def test_a_held_follow_up_goes_to_its_agent_when_they_free_a_slot(sessions) -> None:
    world = World(sessions)
    first = await world.say("quiero devolver mi pedido", visitor="v-freed")
    ana = await world.agent("ana-freed@example.com", capacity=1)
    await world.actions.resolve(ana, first, "return_authorized")
    busy = await world.say("quiero devolver algo", visitor="v-freed-busy")
    again = await world.say("quiero devolver otra vez", visitor="v-freed")
    assert (await world.case(again)).held_for_id == ana.agent.id
    await world.actions.resolve(ana, busy, "resolved")  # her slot frees: the held case is hers
    case = await world.case(again)
    assert (case.status, case.assignee_id, case.held_for_id) == ("assigned", ana.agent.id, None)
    await world.bot.aclose()


async def test_an_offline_agent_never_receives_a_returning_customer(sessions) -> None:
    world = World(sessions)
    first = await world.say("quiero devolver mi pedido", visitor="v-offline")
    ana = await world.agent("ana-offline@example.com")
    await world.actions.resolve(ana, first, "return_authorized")
    async with sessions() as session, session.begin():
        await session.execute(update(Agent).where(Agent.id == ana.agent.id).values(presence="offline"))
    bea = await world.agent("bea-offline@example.com")
    again = await world.say("quiero devolver otra vez", visitor="v-offline")
    assert (await world.case(again)).assignee_id == bea.agent.id
    assert (await routing_rows(sessions, again))[0] == [("assign", "follow_up_agent_away")]
    await world.bot.aclose()
