"""The verification dialog through the conversation service on SQLite and PostgreSQL: the assistant's
`{"verification": …}` payload sends a code through the Graph API stand-in (or the Twilio stand-in), the customer
is told how and to which number's last digits, typing the code joins the WhatsApp customer and their case, and the
code is in no table, log or request to the assistant; a code that cannot go out hands the case to people."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
import structlog
from limits.aio.storage import MemoryStorage
from sqlalchemy import select

from handoff.channels.voice.codes import TwilioCodeCourier
from handoff.channels.voice.rest import TwilioRest
from handoff.channels.whatsapp.codes import WhatsAppCodeCourier
from handoff.channels.whatsapp.graph import GraphClient
from handoff.core.bot_client import RasaClient
from handoff.core.code_delivery import CodeCourier
from handoff.core.conversation import Received
from handoff.core.identity import normalize_phone
from handoff.core.messages import InboundMessage
from handoff.core.verification import Verifications
from handoff.services import build_services
from handoff.store.models import (
    Call,
    Case,
    Customer,
    Handoff,
    Identity,
    Merge,
    TimelineEvent,
    VerificationCode,
    utcnow,
)
from tests.service.store.test_conversation import OPERATIONS, RecordingDeliverer
from tests.service.support.codes import leaks, other_than, spoken_code, template_code, text_columns
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn, graph_error
from tests.service.support.merging import Sessions, case_with_events, chains_ok, whatsapp_ana
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, TwilioStandIn

KEY = b"test-secret-key"
PHONE = "+52 55 1234 5678"
SENT = ("Te enviamos un código de 6 dígitos por WhatsApp al número que termina en 78. "
        "Escríbelo aquí para continuar.")


class Dialog:
    """The conversation service with the couriers on the stand-ins and an assistant that offers a code on /affirm."""

    def __init__(self, sessions: Sessions, graph: GraphStandIn, twilio: TwilioStandIn, *,
                 couriers: list[CodeCourier] | None = None) -> None:
        self.sessions = sessions
        self.graph = graph
        self.offer: dict[str, str] = {"phone": "55 1234 5678"}  # as the customer said it
        self.rasa = RasaStandIn(reply=self.answer)
        self.bot = RasaClient("http://rasa", timeout=5, retries=0, backoff=0,
                              client=httpx.AsyncClient(transport=httpx.MockTransport(self.rasa.handler)))
        self.deliverer = RecordingDeliverer()
        self.shift = timedelta(0)
        self.verifications = Verifications(KEY, MemoryStorage(), clock=lambda: utcnow() + self.shift)
        self.couriers = couriers if couriers is not None else [
            WhatsAppCodeCourier(GraphClient(graph.base_url, PHONE_NUMBER_ID, TOKEN), OPERATIONS.verification_code,
                                "es"),
            TwilioCodeCourier(TwilioRest(twilio.base_url, ACCOUNT_SID, AUTH_TOKEN, CALLER_ID))]
        self.core = build_services(sessions, OPERATIONS, self.bot, {"webchat": self.deliverer},
                                   verifications=self.verifications, couriers=self.couriers)
        self.sent = 0

    def answer(self, message: str) -> list[dict[str, Any]]:
        if message == "/affirm":  # the customer accepted the assistant's offer: one payload, no text
            return [{"custom": {"verification": dict(self.offer)}}]
        return [{"text": f"Recibido: {message}"}]

    async def say(self, text: str, session: str = "visitor-1", message_id: str | None = None) -> Received:
        self.sent += 1
        inbound = InboundMessage(channel="webchat", identity_kind="webchat", identity_value=session, address=session,
                                 text=text, bot_input=text, provider_id=f"{session}:{message_id or self.sent}")
        received = await self.core.conversations.receive(inbound)
        if received.to_bot and received.event_id is not None:
            await self.core.conversations.process(received.event_id, received.turn)
        return received

    def replies(self, session: str = "visitor-1") -> list[str]:
        return [message.text or "" for address, message in self.deliverer.delivered if address == session]

    def last_code(self) -> str:
        return template_code(self.graph.sends()[-1])

    async def close(self) -> None:
        await self.bot.aclose()
        for courier in self.couriers:
            if isinstance(courier, TwilioCodeCourier):
                await courier.rest.aclose()


@pytest.fixture
async def dialog(sessions: Sessions, graph: GraphStandIn, twilio: TwilioStandIn) -> Any:
    opened = Dialog(sessions, graph, twilio)
    yield opened
    await opened.close()


async def open_cases(sessions: Sessions) -> list[Case]:
    async with sessions() as session:
        return list(await session.scalars(select(Case).where(Case.status.in_(("bot", "queued", "assigned")))))


async def handoff_reasons(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(Handoff.reason).order_by(Handoff.id)))


async def test_the_offer_sends_a_code_on_whatsapp_and_typing_it_joins_anas_case_with_nothing_asked_again(
        sessions: Sessions, dialog: Dialog, caplog: pytest.LogCaptureFixture) -> None:
    ids = await whatsapp_ana(sessions)
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        await dialog.say("te escribí por whatsapp, mi número es 55 1234 5678")
        offered = await dialog.say("/affirm")
        [template] = dialog.graph.sends()
        code = dialog.last_code()
        duplicate = await dialog.say(other_than(code), message_id="typed-1")
        again = await dialog.say(other_than(code), message_id="typed-1")  # the same message id, delivered twice
        typed = await dialog.say(f"{code[:3]} {code[3:]}")
        later = await dialog.say("¿y mi pedido?")
    assert offered.to_bot and (template["to"], template["template"]["name"]) == ("525512345678", "verification_code")
    assert again.duplicate and not duplicate.duplicate and not typed.to_bot
    assert dialog.replies()[1:4] == [
        SENT, "Ese código no es correcto. Revisa el mensaje que te enviamos; te quedan 4 intentos.",
        "Listo, verificamos tu número. Seguimos con tu caso; no necesitas repetir nada."]  # the repeat: not counted
    assert typed.case_id == later.case_id == ids["case"]
    last = dialog.rasa.asked[-1]
    assert (last["sender"], last["message"]) == (ids["case"], "¿y mi pedido?")  # the WhatsApp conversation
    assert last["metadata"]["customer"]["id"] == ids["ana"] and last["metadata"]["known"]["order_number"] == "100002"
    assert [case.id for case in await open_cases(sessions)] == [ids["case"]]
    async with sessions() as session:
        merge = await session.scalar(select(Merge))
        assert merge is not None and merge.survivor_customer_id == ids["ana"]
        assert merge.evidence["verified_by"] == "otp_whatsapp"
        entered = list(await session.scalars(select(TimelineEvent.text).where(TimelineEvent.actor == "customer",
                                                                             TimelineEvent.channel == "webchat")))
        assert entered.count("código de verificación ingresado") == 2
        told = await session.scalar(select(TimelineEvent).where(TimelineEvent.text == SENT))
        assert told is not None and told.actor == "system"
    texts = [*(str(entry) for entry in logs), *(record.getMessage() for record in caplog.records)]
    for digits in (code, other_than(code)):
        assert leaks(digits, texts) == [] and leaks(digits, await text_columns(sessions)) == []
        assert leaks(digits, [str(asked) for asked in dialog.rasa.asked]) == []
    assert [asked["message"] for asked in dialog.rasa.asked] == [
        "te escribí por whatsapp, mi número es 55 1234 5678", "/affirm", "¿y mi pedido?"]
    await chains_ok(sessions)


async def test_wrong_expired_and_too_many_codes_end_with_people_for_verification_failed(
        sessions: Sessions, dialog: Dialog) -> None:
    await whatsapp_ana(sessions)
    await dialog.say("/affirm")
    first = dialog.last_code()
    dialog.shift = timedelta(minutes=6)  # past the five minutes
    await dialog.say(first)
    assert dialog.replies()[-1] == "Ese código ya no es válido (dura 5 minutos). Pide uno nuevo y te lo enviamos."
    await dialog.say("/affirm")  # asked again: a new code
    code = dialog.last_code()
    for _ in range(4):
        await dialog.say(other_than(code))
    assert dialog.replies()[-1].endswith("te queda 1 intento.")
    await dialog.say(other_than(code))
    assert dialog.replies()[-2] == ("No pudimos verificar tu número con ese código. "
                                    "Una persona del equipo te ayudará aquí mismo.")
    assert "en la fila" in dialog.replies()[-1]
    assert await handoff_reasons(sessions) == ["verification_failed"]
    await dialog.say(code)  # the right one, too late: people's now, and it verifies nothing
    async with sessions() as session:
        statuses = list(await session.scalars(select(VerificationCode.status).order_by(VerificationCode.created_at)))
        assert statuses == ["expired", "failed"] and await session.scalar(select(Merge)) is None
    assert len(dialog.graph.sends()) == 2
    await chains_ok(sessions)


async def test_a_code_typed_in_another_session_verifies_nothing(sessions: Sessions, dialog: Dialog) -> None:
    ids = await whatsapp_ana(sessions)
    await dialog.say("/affirm", session="visitor-1")
    code = dialog.last_code()
    await dialog.say("/affirm", session="visitor-2")  # the same phone from another session: a code of its own
    if dialog.last_code() != code:  # one in a million: the two codes are the same
        await dialog.say(code, session="visitor-2")
        assert dialog.replies("visitor-2")[-1].startswith("Ese código no es correcto")
    await dialog.say(code, session="visitor-3")  # no code pending here: six digits are the assistant's
    assert dialog.replies("visitor-3") == [f"Recibido: {code}"]
    async with sessions() as session:
        assert await session.scalar(select(Merge)) is None
    await dialog.say(code, session="visitor-1")  # still good where it was sent
    assert dialog.replies("visitor-1")[-1].startswith("Listo, verificamos tu número")
    async with sessions() as session:
        merges = list(await session.scalars(select(Merge)))
        assert [merge.survivor_customer_id for merge in merges] == [ids["ana"]]


async def test_an_email_sends_the_code_to_its_owners_verified_phone(sessions: Sessions, dialog: Dialog) -> None:
    ids = await whatsapp_ana(sessions, email="ana@example.mx")
    dialog.offer = {"email": " ANA@example.mx "}
    await dialog.say("/affirm")
    assert dialog.replies() == [SENT] and dialog.graph.sends()[0]["to"] == "525512345678"
    await dialog.say(dialog.last_code())
    assert [case.id for case in await open_cases(sessions)] == [ids["case"]]
    dialog.offer = {"email": "nobody@example.mx"}
    await dialog.say("/affirm", session="visitor-2")
    assert dialog.replies("visitor-2")[0] == ("No pudimos enviarte un código de verificación en este momento. "
                                              "Una persona del equipo te ayudará aquí mismo.")
    assert await handoff_reasons(sessions) == ["verification_required"] and len(dialog.graph.sends()) == 1


async def test_a_phone_already_proved_gets_no_code(sessions: Sessions, dialog: Dialog) -> None:
    async with sessions() as session, session.begin():
        visitor = Customer(language="es")
        session.add(visitor)
        await session.flush()
        session.add_all([Identity(customer_id=visitor.id, kind="webchat", value="visitor-1"),
                         Identity(customer_id=visitor.id, kind="phone", value=normalize_phone(PHONE), verified=True,
                                  verified_by="otp_voice")])
    await dialog.say("/affirm")
    assert dialog.replies() == ["Tu número que termina en 78 ya está verificado. Seguimos con tu caso."]
    assert dialog.graph.sends() == [] and await handoff_reasons(sessions) == []


async def test_when_whatsapp_cannot_deliver_the_code_is_read_in_a_call(
        sessions: Sessions, dialog: Dialog, twilio: TwilioStandIn) -> None:
    dialog.graph.script.append((400, graph_error(131026, "Message undeliverable")))
    dialog.offer = {"phone": "+1 415 555 0123"}
    await dialog.say("/affirm")
    assert dialog.replies() == ["Te llamaremos al número que termina en 23 para dictarte un código de 6 dígitos. "
                                "Escríbelo aquí para continuar."]
    [call] = twilio.calls
    await dialog.say(spoken_code(call["Twiml"]))
    async with sessions() as session:
        identity = await session.scalar(select(Identity).where(Identity.kind == "phone"))
        assert identity is not None and (identity.value, identity.verified_by) == ("+14155550123", "otp_voice")


async def test_no_call_reads_a_code_to_a_phone_on_a_call_with_us(
        sessions: Sessions, dialog: Dialog, twilio: TwilioStandIn) -> None:
    async with sessions() as session, session.begin():  # the phone is calling us: a second call would hit it busy
        caller = Customer(language="es")
        session.add(caller)
        await session.flush()
        case = await case_with_events(session, caller, "voice", "bot")
        session.add(Call(provider="twilio", provider_call_id="CA-live", case_id=case.id, customer_id=caller.id,
                         direction="inbound", from_number="+14155550123", status="in-progress"))
    dialog.graph.script.extend([(400, graph_error(131026, "Message undeliverable"))] * 2)
    dialog.offer = {"phone": "+1 415 555 0123"}
    await dialog.say("/affirm")
    assert dialog.replies()[0] == ("No pudimos enviarte un código de verificación en este momento. "
                                   "Una persona del equipo te ayudará aquí mismo.")
    assert twilio.calls == [] and await handoff_reasons(sessions) == ["verification_required"]
    async with sessions() as session, session.begin():
        live = await session.scalar(select(Call).where(Call.provider_call_id == "CA-live"))
        assert live is not None
        live.status, live.ended_at = "completed", utcnow()
    await dialog.say("/affirm", session="visitor-2")  # the call ended: the code may be read in one now
    assert len(twilio.calls) == 1 and twilio.calls[0]["To"] == "+14155550123"


async def test_a_code_that_cannot_go_out_hands_the_case_to_people_for_verification_required(
        sessions: Sessions, dialog: Dialog, graph: GraphStandIn, twilio: TwilioStandIn) -> None:
    dialog.offer = {"phone": "12"}
    await dialog.say("/affirm", session="bad-phone")
    assert dialog.replies("bad-phone")[0].startswith("Ese número de teléfono no parece válido")
    dialog.offer = {"phone": "+14155550123"}
    for n in range(4):  # three codes per phone an hour
        await dialog.say("/affirm", session=f"limit-{n}")
    assert dialog.replies("limit-3")[0].startswith("Ya enviamos varios códigos en la última hora")
    nobody = Dialog(sessions, graph, twilio, couriers=[])
    await nobody.say("/affirm", session="no-courier")
    assert nobody.replies("no-courier")[0].startswith("No pudimos enviarte un código de verificación")
    await nobody.close()
    assert await handoff_reasons(sessions) == ["verification_required"] * 3
    for session in ("bad-phone", "limit-3"):
        assert "en la fila" in dialog.replies(session)[1]  # then who answers and when
    assert len(graph.sends()) == 3
