"""The per-message store path on SQLite and PostgreSQL: what one read returns, and how few statements a turn takes."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from limits.aio.storage import MemoryStorage
from sqlalchemy import event, select

from handoff.core.bot_client import RasaClient
from handoff.core.cases import open_case
from handoff.core.conversation import Conversations
from handoff.core.customers import find_contact, resolve_customer
from handoff.core.messages import InboundMessage
from handoff.core.operations import load_operations
from handoff.core.timeline import case_events, verify_case
from handoff.core.verification import Verifications
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Case, Identity, PendingTurn, TimelineEvent, utcnow
from tests.service.support.rasa_standin import RasaStandIn


def inbound(text: str, visitor: str = "visitor-1", provider_id: str | None = None) -> InboundMessage:
    return InboundMessage(channel="webchat", identity_kind="webchat", identity_value=visitor, address=visitor,
                          text=text, bot_input=text, provider_id=provider_id, language="es")


def conversations_with_standin(sessions) -> tuple[Conversations, RasaStandIn]:
    rasa = RasaStandIn()
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
    # Verification codes wired as the app wires them: a message with no code in it costs no statement more.
    return build_services(sessions, load_operations(REPO_ROOT / "operations.yml"), bot, {},
                          verifications=Verifications(b"turn-path-key", MemoryStorage())).conversations, rasa


async def test_one_read_finds_the_customer_all_identities_and_the_latest_case(sessions) -> None:
    async with sessions() as session, session.begin():
        customer = await resolve_customer(session, "webchat", "visitor-1")
        session.add(Identity(customer_id=customer.id, kind="email", value="ana@example.mx"))
        old = await open_case(session, customer, "webchat", follow_up_window_hours=72)
        old.status, old.resolved_at = "resolved", utcnow()
        old.created_at = utcnow() - timedelta(hours=1)
    async with sessions() as session, session.begin():
        newer = await open_case(session, customer, "webchat", follow_up_window_hours=72)
    async with sessions() as session:
        contact = await find_contact(session, "webchat", "visitor-1")
        assert await find_contact(session, "webchat", "nobody") is None
    assert contact is not None and contact.customer.id == customer.id
    assert [(i.kind, i.value) for i in contact.identities] == [("webchat", "visitor-1"), ("email", "ana@example.mx")]
    assert contact.latest_case is not None and contact.latest_case.id == newer.id != old.id
    assert newer.previous_case_id == old.id  # the recontact link still sees the closed case


async def test_a_merged_customer_continues_on_the_survivor(sessions) -> None:
    async with sessions() as session, session.begin():
        survivor = await resolve_customer(session, "phone", "+5215512345678", verified=True)
        case = await open_case(session, survivor, "whatsapp", follow_up_window_hours=72)
        merged = await resolve_customer(session, "webchat", "visitor-2")
        merged.merged_into_id = survivor.id
    async with sessions() as session:
        contact = await find_contact(session, "webchat", "visitor-2")
    assert contact is not None and contact.customer.id == survivor.id
    assert [i.value for i in contact.identities] == ["+5215512345678"] and contact.latest_case.id == case.id


async def test_a_returning_customers_turn_takes_few_statements_to_store_and_to_answer(sessions) -> None:
    conversations, rasa = conversations_with_standin(sessions)
    first = await conversations.receive(inbound("hola"))
    await conversations.process(first.event_id, first.turn)  # first contact: creates, learns the language

    statements: list[str] = []
    engine = conversations.sessions.kw["bind"].sync_engine

    def count(_conn, _cursor, statement: str, *_args) -> None:
        if statement.split()[0] in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            statements.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        received = await conversations.receive(inbound("donde esta mi pedido?", provider_id="m-2"))
        stored = list(statements)
        statements.clear()
        await conversations.process(received.event_id, received.turn)
        answered = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    await conversations.bot.aclose()

    # (PostgreSQL: the identity's advisory lock, so two workers never open two cases for one customer),
    # contact+case+identities, the case write (its lock; it returns the case's status and assignee as they are under
    # that lock, as another worker's turn may have taken it back), head and duplicate check, the event, the pending
    # turn; SQLite holds the write lock from BEGIN, so the case write's RETURNING reads the head and the duplicate check
    sqlite = engine.dialect.name == "sqlite"
    assert stored == (["SELECT", "UPDATE", "INSERT", "INSERT"] if sqlite else
                      ["SELECT", "SELECT", "UPDATE", "SELECT", "INSERT", "INSERT"])
    # claim the pending turn (SQLite: returning the head; PostgreSQL: locking the case row in the same statement, a
    # data-modifying WITH, then the head), the answer
    assert answered == (["DELETE", "INSERT"] if sqlite else ["WITH", "SELECT", "INSERT"])
    assert rasa.asked[-1]["metadata"]["case"] == {"id": received.case_id, "status": "bot"}
    async with sessions() as session:
        events = await case_events(session, received.case_id)
        assert (await verify_case(session, received.case_id)).ok
        assert (await session.scalars(select(PendingTurn))).all() == []
        case = await session.get(Case, received.case_id)
    assert [(e.actor, e.text) for e in events][-2:] == [("customer", "donde esta mi pedido?"),
                                                       ("bot", "Recibido: donde esta mi pedido?")]
    assert case.last_customer_message_at is not None and case.language == "es"


async def test_concurrent_turns_of_one_customer_keep_one_chain_and_ignore_a_repeat(sessions) -> None:
    conversations, rasa = conversations_with_standin(sessions)
    first = await conversations.receive(inbound("hola"))
    await conversations.process(first.event_id, first.turn)

    async def turn(number: int) -> None:
        received = await conversations.receive(inbound(f"mensaje {number}", provider_id=f"m-{number % 6}"))
        if received.to_bot:
            await conversations.process(received.event_id, received.turn)

    await asyncio.gather(*(turn(number) for number in range(12)))  # six ids, each delivered twice
    await conversations.bot.aclose()
    async with sessions() as session:
        events = await case_events(session, first.case_id)
        check = await verify_case(session, first.case_id)
        customer_ids = list(await session.scalars(select(TimelineEvent.provider_id)
                                                  .where(TimelineEvent.actor == "customer")))
    assert check.ok and [e.seq for e in events] == list(range(1, len(events) + 1))
    assert sorted(filter(None, customer_ids)) == [f"m-{n}" for n in range(6)]
    assert len(events) == 2 + 6 * 2  # the first exchange, then six messages each answered once
