"""A website chat left without an answer continues once on the customer's verified WhatsApp, on the same case
(real database on SQLite and PostgreSQL, Graph API stand-in, an assistant stand-in)."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from handoff.channels.whatsapp.outbound import WhatsAppFollowUp
from handoff.channels.whatsapp.window import load_templates
from handoff.core.consent import set_whatsapp_opt_out
from handoff.core.messages import InboundMessage
from handoff.core.operations import load_operations
from handoff.core.recovery import ChatRecovery
from handoff.core.timeline import verify_case
from handoff.settings import REPO_ROOT
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, Customer, Identity, utcnow
from tests.service.support.whatsapp_webhooks import WA_ID, text_webhook

PHONE = f"+{WA_ID}"
AFTER = timedelta(seconds=600)
HANDOFF = [{"custom": {"handoff": {"reason": "explicit_request", "intent": "human"}}}]


def recovery(channel, sessions=None) -> ChatRecovery:
    """The recovery loop as the WhatsApp runtime builds it, over `sessions` (another worker's engine) if given."""
    operations = load_operations(REPO_ROOT / "operations.yml")
    follow_up = WhatsAppFollowUp(load_templates(operations.whatsapp_templates), channel.deliverer)
    conversations = channel.conversations
    return ChatRecovery(sessions or channel.sessions, conversations.events, operations, follow_up,
                        conversations.deliverers, after=AFTER)


async def web_visitor(channel, session_id: str = "web-ana", *, phone_verified: bool | None = True,
                      name: str | None = "Ana", phone: str = PHONE) -> str:
    """A website visitor who proved (or only typed, or never gave) the phone WA_ID writes from; their customer id."""
    async with channel.sessions() as session, session.begin():
        customer = Customer(display_name=name, language="es")
        session.add(customer)
        await session.flush()
        session.add(Identity(customer_id=customer.id, kind="webchat", value=session_id, verified=False))
        if phone_verified is not None:
            session.add(Identity(customer_id=customer.id, kind="phone", value=phone, verified=phone_verified,
                                 verified_by="otp_whatsapp" if phone_verified else None))
        return customer.id


async def web_says(channel, text: str, session_id: str = "web-ana", message_id: str = "m1") -> str:
    """A webchat message with its assistant turn, as the webchat door runs it; the case id."""
    received = await channel.conversations.receive(InboundMessage(
        channel="webchat", identity_kind="webchat", identity_value=session_id, address=session_id, text=text,
        bot_input=text, provider_id=f"{session_id}:{message_id}"))
    if received.to_bot and received.event_id is not None:
        await channel.conversations.process(received.event_id, received.turn)
    assert received.case_id is not None
    return received.case_id


async def case_of(channel, case_id: str) -> Case:
    async with channel.sessions() as session:
        return await session.get_one(Case, case_id)


async def later(channel, case_id: str, seconds: float) -> None:
    """The customer's last message moves `seconds` into the past (a silence without waiting for it)."""
    async with channel.sessions() as session, session.begin():
        case = await session.get_one(Case, case_id)
        assert case.last_customer_message_at is not None
        case.last_customer_message_at = case.last_customer_message_at - timedelta(seconds=seconds)


async def test_a_queued_chat_left_silent_gets_one_template_outside_the_window_and_the_reply_continues_it(
        channel) -> None:
    customer_id = await web_visitor(channel)
    channel.rasa.reply = lambda message: HANDOFF
    case_id = await web_says(channel, "quiero hablar con una persona")
    assert (await case_of(channel, case_id)).status == "queued"
    sweeper = recovery(channel)

    await later(channel, case_id, 500)
    assert await sweeper.sweep() == 0  # not silent long enough yet
    await later(channel, case_id, 101)
    assert await sweeper.sweep() == 1
    assert await sweeper.sweep() == 0  # the same abandonment: never twice
    await channel.flush()

    [sent] = channel.graph.sends()
    assert sent["to"] == WA_ID and sent["type"] == "template"
    assert sent["template"]["name"] == "chat_recovery" and sent["template"]["language"]["code"] == "es_MX"
    assert sent["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Ana"}]
    case = await case_of(channel, case_id)
    assert (case.status, case.channel) == ("queued", "whatsapp")  # agents' replies now go to WhatsApp
    [event] = await channel.events(kind="recovery")
    [message] = await channel.events(channel="whatsapp", direction="out", kind="message")
    assert event.case_id == message.case_id == case_id
    assert event.payload["template"] == "chat_recovery" and event.payload["message_event_id"] == message.id
    assert message.text.startswith("Hola Ana, seguimos por aquí")
    async with channel.sessions() as session, session.begin():  # back on the website chat without a word from
        (await session.get_one(Case, case_id)).channel = "webchat"  # the customer: the same abandonment still
    assert await sweeper.sweep() == 0
    async with channel.sessions() as session, session.begin():
        (await session.get_one(Case, case_id)).channel = "whatsapp"

    await channel.webhook(text_webhook("sí, sigo aquí", wamid="wamid.BACK1"))
    [reply] = await channel.events(channel="whatsapp", direction="in")
    assert (reply.case_id, reply.customer_id) == (case_id, customer_id)  # the same case, context intact
    assert channel.rasa.asked[-1]["message"] == "quiero hablar con una persona"  # people hold it: no bot turn
    async with channel.sessions() as session:
        assert (await verify_case(session, case_id)).ok
        assert len(list(await session.scalars(select(Case)))) == 1


async def test_inside_the_window_the_customer_gets_free_text_in_their_language(channel) -> None:
    await web_visitor(channel)
    await channel.webhook(text_webhook("hello", wamid="wamid.FIRST"))  # WhatsApp today: the window is open
    async with channel.sessions() as session, session.begin():
        [case] = list(await session.scalars(select(Case)))
        case.language = "en"
    channel.rasa.reply = lambda message: HANDOFF
    case_id = await web_says(channel, "I want a person")
    assert case_id == case.id and (await case_of(channel, case_id)).channel == "webchat"
    before = len(channel.graph.sends())
    await later(channel, case_id, 601)

    assert await recovery(channel).sweep() == 1
    await channel.flush()
    [sent] = channel.graph.sends()[before:]
    assert sent["type"] == "text" and sent["text"]["body"].startswith("Hi, we're still here.")
    [event] = await channel.events(kind="recovery")
    assert event.payload["template"] is None


async def test_two_workers_racing_send_one_message(channel, database_url: str) -> None:
    await web_visitor(channel)
    channel.rasa.reply = lambda message: HANDOFF
    case_id = await web_says(channel, "una persona por favor")
    await later(channel, case_id, 700)
    other = create_engine(database_url)
    try:
        results = await asyncio.gather(recovery(channel).sweep(), recovery(channel, session_factory(other)).sweep(),
                                       recovery(channel).sweep())
    finally:
        await other.dispose()
    assert sorted(results) == [0, 0, 1]
    await channel.flush()
    assert len(channel.graph.sends()) == 1
    assert len(await channel.events(kind="recovery")) == 1


async def test_no_message_to_an_opted_out_customer_or_one_without_a_verified_number(channel) -> None:
    channel.rasa.reply = lambda message: HANDOFF
    opted = await web_visitor(channel, "web-opted")
    await web_visitor(channel, "web-typed", phone_verified=False, phone="+525512345678")  # only typed
    await web_visitor(channel, "web-anon", phone_verified=None)
    cases = [await web_says(channel, "hola", session_id) for session_id in ("web-opted", "web-typed", "web-anon")]
    async with channel.sessions() as session, session.begin():
        case = await session.get_one(Case, cases[0])
        assert await set_whatsapp_opt_out(session, case, await session.get_one(Customer, opted), opted_out=True,
                                          actor="agent:x", channel="webchat")
    for case_id in cases:
        await later(channel, case_id, 601)

    assert await recovery(channel).sweep() == 0
    await channel.flush()
    assert channel.graph.sends() == [] and await channel.events(kind="recovery") == []
    for case_id in cases:  # each looked at once, left on the website chat
        case = await case_of(channel, case_id)
        assert case.channel == "webchat" and case.recovery_claimed_at is not None


async def test_the_assistants_chat_is_recovered_only_while_it_awaits_an_answer(channel) -> None:
    await web_visitor(channel, "web-asked")
    await web_visitor(channel, "web-done", phone="+525512345678")
    channel.rasa.reply = lambda message: [{"text": "¿Cuál es tu número de pedido?"}]
    asked = await web_says(channel, "quiero saber de mi pedido", "web-asked")
    channel.rasa.reply = lambda message: [{"text": "Tu pedido llega el martes."}]
    done = await web_says(channel, "mi pedido 100002", "web-done")
    for case_id in (asked, done):
        assert (await case_of(channel, case_id)).status == "bot"
        await later(channel, case_id, 601)

    assert await recovery(channel).sweep() == 1
    [event] = await channel.events(kind="recovery")
    assert event.case_id == asked
    assert (await case_of(channel, done)).channel == "webchat"


async def test_a_new_silence_after_the_customer_wrote_again_may_be_recovered_again(channel) -> None:
    await web_visitor(channel)
    channel.rasa.reply = lambda message: HANDOFF
    case_id = await web_says(channel, "una persona")
    await later(channel, case_id, 601)
    sweeper = recovery(channel)
    assert await sweeper.sweep() == 1
    await web_says(channel, "volví a la página", message_id="m2")  # back on the website: the case follows
    assert (await case_of(channel, case_id)).channel == "webchat"
    assert await sweeper.sweep() == 0
    assert await sweeper.sweep(now=utcnow() + timedelta(seconds=601)) == 1  # ten minutes after coming back
    assert len(await channel.events(kind="recovery")) == 2


async def test_a_silence_older_than_the_horizon_is_left_alone(channel) -> None:
    await web_visitor(channel)
    channel.rasa.reply = lambda message: HANDOFF
    case_id = await web_says(channel, "una persona")
    await later(channel, case_id, 25 * 3600)
    assert await recovery(channel).sweep() == 0
    assert (await case_of(channel, case_id)).recovery_claimed_at is None
