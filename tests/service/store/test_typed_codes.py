"""A verification code typed in the chat on SQLite and PostgreSQL: checked by the service, never the assistant's;
the timeline reads "verification code entered"; verified joins the phone's customer and case; wrong codes get a
clear answer and, once the tries are spent, people (reason verification_failed)."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
import structlog
from limits.aio.storage import MemoryStorage
from sqlalchemy import func, select

from handoff.core.bot_client import RasaClient
from handoff.core.customers import resolve_customer
from handoff.core.messages import InboundMessage
from handoff.core.typed_codes import GRACE, session_key
from handoff.core.verification import LIFETIME, MAX_TRIES, Issued, Verifications
from handoff.services import CoreServices, build_services
from handoff.store.models import Case, Customer, Handoff, Identity, PendingTurn, TimelineEvent, VerificationCode, utcnow
from tests.service.store.test_conversation import OPERATIONS, RecordingDeliverer
from tests.service.support.codes import other_than, text_columns
from tests.service.support.merging import Sessions, chains_ok, two_customers
from tests.service.support.rasa_standin import RasaStandIn

KEY = b"test-secret-key"


def said(text: str, n: int = 0) -> InboundMessage:
    return InboundMessage(channel="webchat", identity_kind="webchat", identity_value="visitor-1",
                          address="visitor-1", text=text, bot_input=text, provider_id=f"visitor-1:m{n}")


class Setup:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.rasa = RasaStandIn()
        self.bot = RasaClient("http://rasa", timeout=5, retries=0, backoff=0,
                              client=httpx.AsyncClient(transport=httpx.MockTransport(self.rasa.handler)))
        self.deliverer = RecordingDeliverer()
        self.shift = timedelta(0)  # the service's clock runs this far ahead
        self.verifications = Verifications(KEY, MemoryStorage(), clock=lambda: utcnow() + self.shift)
        self.core: CoreServices = build_services(sessions, OPERATIONS, self.bot, {"webchat": self.deliverer},
                                                 verifications=self.verifications)

    async def say(self, text: str, n: int = 0) -> Any:
        received = await self.core.conversations.receive(said(text, n))
        if received.to_bot and received.event_id is not None:
            await self.core.conversations.process(received.event_id, received.turn)
        return received

    async def code_for(self, customer_id: str, phone: str) -> Issued:
        async with self.sessions() as session, session.begin():
            issued = await self.verifications.issue(session, session_key=session_key("webchat", "visitor-1"),
                                                    customer_id=customer_id,
                                                    phone=phone, channel="whatsapp")
        assert isinstance(issued, Issued)
        return issued

    def replies(self) -> list[str]:
        return [message.text or "" for _, message in self.deliverer.delivered]


async def test_the_right_code_typed_in_the_chat_joins_the_phones_customer_and_never_reaches_rasa(
        sessions: Sessions, caplog: pytest.LogCaptureFixture) -> None:
    ids = await two_customers(sessions)  # visitor-1 is the web visitor with an open queued case
    setup = Setup(sessions)
    issued = await setup.code_for(ids["visitor"], ids["phone"])
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        wrong = await setup.say(other_than(issued.code), 1)
        right = await setup.say(f"{issued.code[:3]} {issued.code[3:]}", 2)
        later = await setup.say("gracias", 3)  # an ordinary message: on Ana's case, held by Maria
    assert not wrong.to_bot and not right.to_bot and wrong.event_id is not None
    assert setup.replies()[:2] == [
        f"Ese código no es correcto. Revisa el mensaje que te enviamos; te quedan {MAX_TRIES - 1} intentos.",
        "Listo, verificamos tu número. Seguimos con tu caso; no necesitas repetir nada."]
    assert setup.rasa.asked == []
    assert right.case_id == ids["ana_open"]  # the conversation continues on Ana's case
    async with sessions() as session:
        entered = list(await session.scalars(select(TimelineEvent).where(
            TimelineEvent.actor == "customer", TimelineEvent.text == "código de verificación ingresado")))
        assert len(entered) == 2 and all(event.payload.get("verification_code") for event in entered)
        assert {event.customer_id for event in entered} == {ids["ana"]}  # the visitor's events now Ana's
        web_open = await session.get_one(Case, ids["web_open"])
        assert (web_open.status, web_open.merged_into_case_id) == ("merged", ids["ana_open"])
        answered = await session.scalar(select(TimelineEvent).where(
            TimelineEvent.text.startswith("Listo, verificamos")))
        assert answered is not None and answered.case_id == ids["ana_open"]  # the conversation continues there
        assert later.case_id == ids["ana_open"]
        assert (await session.scalars(select(PendingTurn))).all() == []
    texts = [*(str(entry) for entry in logs), *(record.getMessage() for record in caplog.records)]
    for code in (issued.code, other_than(issued.code)):
        assert [text for text in texts if code in text] == []
        assert [text for text in await text_columns(sessions) if code in text] == []
        assert [asked for asked in setup.rasa.asked if code in str(asked)] == []
    await chains_ok(sessions)
    await setup.bot.aclose()


async def test_five_wrong_codes_hand_the_case_to_people_for_verification_failed(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        visitor = await resolve_customer(session, "webchat", "visitor-1")
    setup = Setup(sessions)
    await setup.say("hola", 0)  # the assistant's case
    issued = await setup.code_for(visitor.id, "+14155550123")
    for n in range(1, MAX_TRIES + 1):
        await setup.say(other_than(issued.code), n)
    assert [asked["message"] for asked in setup.rasa.asked] == ["hola"]
    replies = setup.replies()[1:]
    assert replies[MAX_TRIES - 2].endswith("te queda 1 intento.")
    assert replies[MAX_TRIES - 1].startswith("No pudimos verificar tu número")
    assert "en la fila" in replies[MAX_TRIES]  # then who answers and when
    async with sessions() as session:
        handoff = await session.scalar(select(Handoff))
        assert handoff is not None and handoff.reason == "verification_failed"
        case = await session.get_one(Case, handoff.case_id)
        assert case.status in ("queued", "assigned")
        assert (await session.scalar(select(VerificationCode.status))) == "failed"
    after = await setup.say(issued.code, MAX_TRIES + 1)  # the right one, too late: an ordinary message now
    assert after.event_id is not None
    await chains_ok(sessions)
    await setup.bot.aclose()


async def test_a_six_digit_message_with_no_code_pending_is_the_assistants(sessions: Sessions) -> None:
    setup = Setup(sessions)
    received = await setup.say("100002", 1)  # an order number
    assert received.to_bot and [asked["message"] for asked in setup.rasa.asked] == ["100002"]
    async with sessions() as session:
        assert (await session.scalar(select(TimelineEvent.text))) == "100002"
    await setup.bot.aclose()


async def test_six_digits_long_after_an_unused_code_expired_are_the_assistants(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        visitor = await resolve_customer(session, "webchat", "visitor-1")
    setup = Setup(sessions)
    await setup.code_for(visitor.id, "+14155550123")
    setup.shift = LIFETIME + GRACE - timedelta(seconds=30)  # expired a while ago: told to ask for a new one
    assert not (await setup.say("100002", 1)).to_bot
    assert setup.replies() == ["Ese código ya no es válido (dura 5 minutos). Pide uno nuevo y te lo enviamos."]
    await setup.code_for(visitor.id, "+14155550123")
    setup.shift += LIFETIME + GRACE + timedelta(seconds=30)  # long forgotten: six digits are an order number
    received = await setup.say("100002", 2)
    assert received.to_bot and [asked["message"] for asked in setup.rasa.asked] == ["100002"]
    async with sessions() as session:
        assert list(await session.scalars(select(VerificationCode.status).order_by(VerificationCode.created_at))) \
            == ["expired", "pending"]
    await setup.bot.aclose()


async def test_a_code_typed_on_whatsapp_is_stored_for_the_sender_every_message_of_theirs_finds(
        sessions: Sessions) -> None:
    """WhatsApp names the sender by phone and business-scoped id at once: the code's message finds them by either,
    as any message of theirs does (no second customer for the number they now show), and keeps their username."""
    async with sessions() as session, session.begin():
        known = await resolve_customer(session, "whatsapp_bsuid", "US.1234", verified=True, verified_by="whatsapp")
    setup = Setup(sessions)
    first = await setup.core.conversations.receive(InboundMessage(
        channel="whatsapp", identity_kind="whatsapp_bsuid", identity_value="US.1234", address="US.1234", text="hola",
        bot_input="hola", provider_id="wamid.1", verified=True, verified_by="whatsapp"))
    async with sessions() as session, session.begin():
        issued = await setup.verifications.issue(session, session_key=session_key("whatsapp", "US.1234"),
                                                 customer_id=known.id, phone="+14155550123", channel="whatsapp")
    assert isinstance(issued, Issued)
    entered = await setup.core.conversations.receive(InboundMessage(
        channel="whatsapp", identity_kind="phone", identity_value="+525512345678", address="US.1234",
        text=other_than(issued.code), bot_input=other_than(issued.code), provider_id="wamid.2", verified=True,
        verified_by="whatsapp", linked_identities=(("whatsapp_bsuid", "US.1234"),), handle="ana.mx"))
    assert not entered.to_bot and entered.case_id == first.case_id
    async with sessions() as session:
        owners = dict((await session.execute(select(Identity.value, Identity.customer_id))).tuples().all())
        assert owners == {"US.1234": known.id, "+525512345678": known.id}
        assert (await session.get_one(Customer, known.id)).handle == "ana.mx"
        assert (await session.scalar(select(func.count()).select_from(Customer))) == 1
    await setup.bot.aclose()


async def test_six_digits_with_no_code_pending_never_wait_for_a_writer(sessions: Sessions) -> None:
    """The check of six digits with no code pending (an order number) reads without the write lock: a writer
    holding it (SQLite) does not make it wait (the message's own transaction then queues as any message's)."""
    setup = Setup(sessions)
    codes = setup.core.conversations.codes
    assert codes is not None
    async with sessions() as writer, writer.begin():
        await resolve_customer(writer, "webchat", "someone-else")  # holds SQLite's write lock until the end
        await writer.flush()
        assert await asyncio.wait_for(codes.receive(said("100002")), 5) is None
    await setup.bot.aclose()
