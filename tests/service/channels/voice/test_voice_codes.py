"""A caller whose number is withheld proves their WhatsApp number with a code keyed on the phone, through the whole app
(signed Twilio requests, SQLite and PostgreSQL): the assistant's offer (its buttons read as a digit menu) sends the
code through the Graph API stand-in, six keys or six spoken digits are checked by the service, the call goes on as
the WhatsApp customer's on their case, and the digits are in no table, log or request to the assistant. No code is
ever read in a call to a caller during their call: when WhatsApp cannot deliver, people take the call."""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from handoff.store.models import Call, Case, Handoff, Identity, Merge, TimelineEvent
from tests.service.channels.voice.conftest import PUBLIC, VoiceApp, running, voice_settings
from tests.service.support.codes import leaks, other_than, template_code, text_columns
from tests.service.support.graph_api import GraphStandIn, graph_error
from tests.service.support.merging import chains_ok, whatsapp_ana_at
from tests.service.support.rasa_loopback import RasaLoopback
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.twilio_api import CALLER_ID, TwilioStandIn
from tests.service.support.twilio_calls import ACCOUNT_SID, AUTH_TOKEN, call_params, post_twilio

VOICE = "/webhooks/twilio/voice"
OFFER = "¿Te mando un código por WhatsApp para confirmar que eres tú?"
SENT = ("Te enviamos un código de 6 dígitos por WhatsApp al número que termina en 78. "
        "Cuando lo tengas, márcalo en el teclado de tu teléfono o dímelo.")
PROMPT = "Marca en el teclado los 6 dígitos del código que te enviamos por WhatsApp, o dímelos."
TOLD = "ya les escribí por WhatsApp, mi número es 55 1234 5678"


def assistant_reply(message: str) -> list[dict[str, Any]]:
    """Offers a code with two buttons; on /affirm its action sends the one payload, no text."""
    if message == "/affirm":
        return [{"custom": {"verification": {"phone": "55 1234 5678"}}}]
    if "mi numero es" in message:
        return [{"text": OFFER, "buttons": [{"title": "Sí", "payload": "/affirm"},
                                            {"title": "No", "payload": "/deny"}]}]
    return [{"text": f"Recibido: {message}"}]


@dataclass
class Caller:
    """One call to our number, as Twilio posts it (signed), from a caller id that says nothing."""

    app: VoiceApp
    sid: str
    number: str

    async def post(self, path: str, **params: str) -> ET.Element:
        response: httpx.Response = await post_twilio(
            self.app.client, PUBLIC, path, call_params(self.sid, From=self.number, Caller=self.number, **params))
        assert response.status_code == 200, response.text
        return ET.fromstring(response.text)

    async def call(self) -> ET.Element:
        return await self.post(VOICE)

    async def keys(self, digits: str) -> ET.Element:
        return await self.post(f"{VOICE}/gather", Digits=digits)

    async def says(self, speech: str) -> ET.Element:
        return await self.post(f"{VOICE}/gather", SpeechResult=speech, Confidence="0.91")

    async def silent(self) -> ET.Element:
        return await self.post(f"{VOICE}/gather")


def said(root: ET.Element) -> list[str]:
    return [say.text or "" for say in root.iter("Say")]


def listening_for(root: ET.Element) -> dict[str, str]:
    """The <Gather>'s attributes: what the call listens for next."""
    [gather] = root.iter("Gather")
    return dict(gather.attrib)


def keypad(root: ET.Element) -> tuple[str | None, str | None, str | None]:
    attrib = listening_for(root)
    return attrib.get("numDigits"), attrib.get("finishOnKey"), attrib.get("timeout")


@pytest.fixture
def twilio_rest() -> Iterator[TwilioStandIn]:
    """Twilio's REST API, configured: a code could be read in a call, and must not be to a caller on one."""
    standin = TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
    yield standin
    standin.stop()


@dataclass
class Served:
    app: VoiceApp
    assistant: RasaStandIn
    graph: GraphStandIn
    twilio: TwilioStandIn

    def code(self) -> str:
        [template] = self.graph.sends()
        assert template["to"] == "525512345678" and template["template"]["name"] == "verification_code"
        return template_code(template)


@pytest.fixture
async def served(database_url: str, tmp_path: Path, graph: GraphStandIn,
                 twilio_rest: TwilioStandIn) -> AsyncIterator[Served]:
    assistant = RasaStandIn(reply=assistant_reply)
    rasa = RasaLoopback(assistant).start()
    config = voice_settings(database_url, tmp_path, graph, rasa_url=rasa.url, log_level="DEBUG",
                            twilio_account_sid=ACCOUNT_SID, twilio_caller_id=CALLER_ID,
                            twilio_api_base=twilio_rest.base_url)
    try:
        async for app in running(config):
            yield Served(app, assistant, graph, twilio_rest)
    finally:
        rasa.stop()


async def offered(caller: Caller) -> ET.Element:
    """The caller tells their number, hears the offer as a digit menu and presses 1."""
    assert keypad(await caller.call()) == (None, None, "6")  # greeted, listening
    menu = await caller.says(TOLD)
    assert said(menu) == [OFFER, "Para Sí, marca 1. Para No, marca 2."] and keypad(menu) == ("1", None, "6")
    return await caller.keys("1")


async def test_a_withheld_caller_keys_the_whatsapp_code_and_the_call_goes_on_as_that_customers(
        served: Served, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    ids = await whatsapp_ana_at(database_url)
    caplog.set_level(logging.DEBUG)
    caller = Caller(served.app, "CA" + "7" * 32, "anonymous")
    sent = await offered(caller)
    assert said(sent) == [SENT] and keypad(sent) == ("6", "#", "15")  # six keys, # after fewer, time to find it
    code = served.code()
    retry = await caller.keys(other_than(code))
    assert said(retry) == ["Ese código no es correcto. Revisa el mensaje que te enviamos; te quedan 4 intentos."]
    assert keypad(retry) == ("6", "#", "15")
    assert said(await caller.silent()) == [PROMPT]  # looking for it in WhatsApp: asked for the code, not anything
    fumbled = await caller.keys("12#")  # not six: asked again, never the assistant's, no try counted
    assert said(fumbled) == [PROMPT] and keypad(fumbled) == ("6", "#", "15")
    done = await caller.says(" ".join(code) + ".")  # said digit by digit, as Twilio transcribes it
    assert said(done) == ["Listo, verificamos tu número. Seguimos con tu caso; no necesitas repetir nada."]
    assert keypad(done) == (None, None, "6")  # the code is done: the caller talks to the assistant again
    assert said(await caller.says("¿y mi pedido?")) == ["Recibido: y mi pedido?"]
    last = served.assistant.asked[-1]
    assert last["sender"] == ids["case"] and last["metadata"]["customer"]["id"] == ids["ana"]
    assert last["metadata"]["known"]["order_number"] == "100002"  # asked nothing again
    assert [asked["message"] for asked in served.assistant.asked] == [
        "ya les escribi por WhatsApp, mi numero es 55 1234 5678", "/affirm", "y mi pedido?"]
    assert served.twilio.calls == []
    sessions = served.app.sessions
    async with sessions() as session:
        [call] = list(await session.scalars(select(Call)))
        assert (call.customer_id, call.case_id) == (ids["ana"], ids["case"])  # the call went on with the case
        cases = list(await session.scalars(select(Case).where(Case.status.in_(("bot", "queued", "assigned")))))
        assert [(case.id, case.channel) for case in cases] == [(ids["case"], "voice")]
        merge = await session.scalar(select(Merge))
        assert merge is not None and merge.evidence["verified_by"] == "otp_whatsapp"
        phone = await session.scalar(select(Identity).where(Identity.kind == "phone"))
        assert phone is not None and phone.customer_id == ids["ana"]
        entered = list(await session.scalars(select(TimelineEvent.text).where(
            TimelineEvent.actor == "customer", TimelineEvent.channel == "voice", TimelineEvent.kind == "message")
            .order_by(TimelineEvent.id)))
        assert entered == [TOLD, "Sí", "código de verificación ingresado", "código de verificación ingresado",
                           "¿y mi pedido?"]
        assert await session.scalar(select(Handoff)) is None
    await chains_ok(sessions)
    stored = await text_columns(sessions)
    for digits in (code, other_than(code)):
        assert leaks(digits, stored) == []
        assert leaks(digits, [caplog.text]) == []
        assert leaks(digits, [str(asked) for asked in served.assistant.asked]) == []
    assert "verification_code_entered" in caplog.text  # the logs were captured, by verdict only


async def test_when_whatsapp_cannot_deliver_no_call_rings_the_caller_and_people_take_the_call(
        served: Served) -> None:
    served.graph.script.append((400, graph_error(131026, "Message undeliverable")))
    caller = Caller(served.app, "CA" + "8" * 32, "+266696687")  # Twilio's ANONYMOUS
    answer = await offered(caller)
    assert said(answer)[0] == ("No pudimos enviarte un código de verificación en este momento. "
                               "Una persona del equipo te ayudará aquí mismo.")
    assert keypad(answer) == ("1", None, "6") and "fila" in said(answer)[1]  # nobody online: the overflow menu
    assert said(answer)[2].startswith("Para esperar en la línea, marca 1.")
    assert [child.tag for child in await caller.keys("1")][-1] == "Enqueue"  # 1: waits for a person
    assert served.twilio.calls == []  # the Twilio stand-in is configured: it was spared, not missing
    async with served.app.sessions() as session:
        assert list(await session.scalars(select(Handoff.reason))) == ["verification_required"]
        call = await session.scalar(select(Call))
        assert call is not None and call.status == "queued"


async def test_five_wrong_codes_on_the_keypad_put_the_caller_through_to_people(served: Served) -> None:
    caller = Caller(served.app, "CA" + "9" * 32, "")
    await offered(caller)
    code = served.code()
    for _ in range(4):
        assert keypad(await caller.keys(other_than(code) + "#")) == ("6", "#", "15")
    handed = await caller.keys(other_than(code))
    assert said(handed)[0] == ("No pudimos verificar tu número con ese código. "
                               "Una persona del equipo te ayudará aquí mismo.")
    assert keypad(handed) == ("1", None, "6")  # nobody online: the overflow menu
    assert [child.tag for child in await caller.keys("1")][-1] == "Enqueue"  # 1: waits for a person
    async with served.app.sessions() as session:
        assert list(await session.scalars(select(Handoff.reason))) == ["verification_failed"]
        assert await session.scalar(select(Merge)) is None
