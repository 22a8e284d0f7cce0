"""Verification codes delivered through the Graph API stand-in (authentication template, copy-code button) or, when
WhatsApp cannot deliver, read in a call through the Twilio stand-in; the code is in no table, log or error."""
from __future__ import annotations

import logging
import re

import pytest
import structlog
from limits.aio.storage import MemoryStorage
from sqlalchemy import select

from handoff.channels.voice.codes import TwilioCodeCourier, code_twiml
from handoff.channels.voice.rest import TwilioRest
from handoff.channels.whatsapp.codes import WhatsAppCodeCourier, template_language
from handoff.channels.whatsapp.graph import GraphClient
from handoff.core.code_delivery import CodeDispatch, CodeNotSent, CodeSent, delivery_order
from handoff.core.customers import resolve_customer
from handoff.core.operations import VerificationCodeOperations
from handoff.core.verification import Verifications
from handoff.store.models import Identity, VerificationCode
from tests.service.support.codes import leaks, spoken_code, template_code, text_columns
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn, graph_error
from tests.service.support.merging import Sessions, two_customers
from tests.service.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, TwilioStandIn

KEY = b"test-secret-key"
TEMPLATES = VerificationCodeOperations(whatsapp_template="verification_code", languages=["es_MX", "en_US"])


def dispatch(sessions: Sessions, graph: GraphStandIn, twilio: TwilioStandIn,
             templates: VerificationCodeOperations = TEMPLATES) -> tuple[CodeDispatch, Verifications]:
    verifications = Verifications(KEY, MemoryStorage())
    couriers = [TwilioCodeCourier(TwilioRest(twilio.base_url, ACCOUNT_SID, AUTH_TOKEN, CALLER_ID)),
                WhatsAppCodeCourier(GraphClient(graph.base_url, PHONE_NUMBER_ID, TOKEN), templates, "es")]
    return CodeDispatch(sessions, verifications, couriers), verifications


async def test_a_code_goes_out_as_whatsapps_authentication_template_and_verifies_by_it(
        sessions: Sessions, graph: GraphStandIn, twilio: TwilioStandIn, caplog: pytest.LogCaptureFixture) -> None:
    ids = await two_customers(sessions)
    codes, verifications = dispatch(sessions, graph, twilio)
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        sent = await codes.send(session_key="web-1", customer_id=ids["visitor"], phone="+52 55 1234 5678",
                                language="en")
    assert isinstance(sent, CodeSent) and (sent.channel, sent.phone) == ("whatsapp", ids["phone"])
    [body] = graph.sends()
    code = template_code(body)
    assert body == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "525512345678", "type": "template",
        "template": {"name": "verification_code", "language": {"policy": "deterministic", "code": "en_US"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": code}]},
                                    {"type": "button", "sub_type": "url", "index": "0",
                                     "parameters": [{"type": "text", "text": code}]}]}}
    assert re.fullmatch(r"[0-9]{6}", code) and twilio.calls == []
    async with sessions() as session, session.begin():
        done = await verifications.attempt(session, "web-1", code)
    assert (done.verdict, done.verified_by) == ("verified", "otp_whatsapp") and done.customer.id == ids["ana"]
    texts = [*(str(entry) for entry in logs), *(record.getMessage() for record in caplog.records)]
    assert any("verification_code_sent" in text for text in texts)
    assert leaks(code, texts) == [] and leaks(code, await text_columns(sessions)) == []


async def test_when_whatsapp_cannot_deliver_a_call_reads_the_code_twice_in_the_customers_language(
        sessions: Sessions, graph: GraphStandIn, twilio: TwilioStandIn, caplog: pytest.LogCaptureFixture) -> None:
    async with sessions() as session, session.begin():
        visitor = await resolve_customer(session, "webchat", "visitor-7")
    graph.script.append((400, graph_error(131026, "Message undeliverable")))
    codes, verifications = dispatch(sessions, graph, twilio)
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        sent = await codes.send(session_key="web-7", customer_id=visitor.id, phone="+14155550123", language="es")
    assert isinstance(sent, CodeSent) and sent.channel == "voice"
    [call] = twilio.calls
    assert (call["To"], call["From"]) == ("+14155550123", CALLER_ID)
    code = spoken_code(call["Twiml"])
    says = re.findall(r'<Say language="([^"]+)">([^<]*)</Say>', call["Twiml"])
    assert [language for language, _ in says] == ["es-MX", "es-MX"]
    assert all(", ".join(code) in text for _, text in says)  # twice, digit by digit
    assert len(graph.sends()) == 1 and graph.sends()[0]["template"]["language"]["code"] == "es_MX"
    async with sessions() as session, session.begin():
        done = await verifications.attempt(session, "web-7", code)
    assert (done.verdict, done.verified_by) == ("verified", "otp_voice")
    async with sessions() as session:
        identity = await session.scalar(select(Identity).where(Identity.kind == "phone"))
        assert identity is not None and (identity.customer_id, identity.verified_by) == (visitor.id, "otp_voice")
    texts = [*(str(entry) for entry in logs), *(record.getMessage() for record in caplog.records)]
    assert any("verification_code_not_delivered" in text for text in texts)
    assert leaks(code, texts) == [] and leaks(code, await text_columns(sessions)) == []


async def test_a_code_nobody_delivered_can_never_be_typed(sessions: Sessions, graph: GraphStandIn,
                                                          twilio: TwilioStandIn) -> None:
    ids = await two_customers(sessions)
    graph.script.append((400, graph_error(131026, "Message undeliverable")))
    twilio.script.append((400, {"code": 21215, "message": "Geo permission", "status": 400}))
    codes, verifications = dispatch(sessions, graph, twilio)
    sent = await codes.send(session_key="web-1", customer_id=ids["visitor"], phone=ids["phone"], language="es")
    assert isinstance(sent, CodeNotSent) and sent.reason == "undelivered"
    assert [error.split(":")[0] for error in sent.errors] == ["whatsapp", "voice"]
    code = spoken_code(twilio.calls[0]["Twiml"])
    async with sessions() as session, session.begin():
        assert (await verifications.attempt(session, "web-1", code)).verdict == "no_code"
    async with sessions() as session:
        assert [row.status for row in await session.scalars(select(VerificationCode))] == ["undelivered"]


async def test_limits_refuse_before_anything_is_sent(sessions: Sessions, graph: GraphStandIn,
                                                     twilio: TwilioStandIn) -> None:
    ids = await two_customers(sessions)
    codes, _ = dispatch(sessions, graph, twilio)
    results = [await codes.send(session_key="web-1", customer_id=ids["visitor"], phone=ids["phone"], language="es")
               for _ in range(4)]
    assert results[3] == CodeNotSent("too_many_for_phone") and len(graph.sends()) == 3


async def test_without_the_template_codes_go_by_call_and_without_couriers_none_is_issued(
        sessions: Sessions, graph: GraphStandIn, twilio: TwilioStandIn) -> None:
    ids = await two_customers(sessions)
    codes, _ = dispatch(sessions, graph, twilio, VerificationCodeOperations())
    sent = await codes.send(session_key="web-1", customer_id=ids["visitor"], phone=ids["phone"], language="en")
    assert isinstance(sent, CodeSent) and sent.channel == "voice" and graph.sends() == []
    nothing = CodeDispatch(sessions, Verifications(KEY, MemoryStorage()),
                           [TwilioCodeCourier(TwilioRest(twilio.base_url, None, None, None))])
    assert await nothing.send(session_key="web-2", customer_id=ids["visitor"], phone=ids["phone"],
                              language="en") == CodeNotSent("no_courier")


def test_couriers_whatsapp_first_and_the_templates_language() -> None:
    voice = TwilioCodeCourier(TwilioRest("http://127.0.0.1:9", ACCOUNT_SID, AUTH_TOKEN, CALLER_ID))
    whatsapp = WhatsAppCodeCourier(GraphClient("http://127.0.0.1:9", PHONE_NUMBER_ID, TOKEN), TEMPLATES, "es")
    assert [c.channel for c in delivery_order([voice, whatsapp])] == ["whatsapp", "voice"]
    assert template_language(["es_MX", "en_US"], "en", "es") == "en_US"
    assert template_language(["es_MX", "en_US"], "fr", "es") == "es_MX"
    assert template_language(["en_US"], "es", "es") == "en_US"
    assert template_language([], "es", "es") is None
    twiml = code_twiml("042917", "en")
    assert twiml.count("0, 4, 2, 9, 1, 7") == 2 and twiml.count('<Say language="en-US">') == 2
    assert twiml.endswith("<Hangup /></Response>")
