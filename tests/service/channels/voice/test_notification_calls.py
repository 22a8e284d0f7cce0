"""Voice notifications (`"channel": "voice"`) through the whole app over SQLite and PostgreSQL: the call placed
through the Twilio REST stand-in from the outbox, the notification read in the customer's language with one digit
gathered, Twilio's signed requests answered. 1 confirms, 2 hands the case to people with the notification as
context, a call nobody answered fails the notification with Twilio's reason.

Before: notifications were WhatsApp templates only; nothing could ask a customer to confirm on the phone.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from handoff.core.agents import NewAgent, create_agent
from handoff.integrations.registry import Integrations
from handoff.settings import REPO_ROOT
from handoff.store.models import Case, Customer, Handoff, Notification, Outbox, TimelineEvent, utcnow
from tests.service.channels.voice.conftest import PUBLIC, VoiceApp, running, voice_settings
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.polling import until
from tests.service.support.twilio_api import ACCOUNT_SID, CALLER_ID, TwilioStandIn
from tests.service.support.twilio_calls import AUTH_TOKEN, CALLER, post_twilio

PATH = "/webhooks/twilio/voice/notifications"
REMINDER = {"customer_name": "Lucía", "when": "mañana a las 10:00"}
WORDS = "Hola Lucía, te recordamos tu cita: mañana a las 10:00. Responde este mensaje si necesitas cambiarla."
PROMPT = "Para confirmar, marca 1. Para hablar con una persona, marca 2."


@pytest.fixture
async def app(database_url: str, tmp_path: Path, graph: GraphStandIn,
              twilio: TwilioStandIn) -> AsyncIterator[VoiceApp]:
    operations = yaml.safe_load((REPO_ROOT / "operations.yml").read_text(encoding="utf-8"))
    operations["notifications"]["quiet_hours"] = None  # whatever the hour in Mexico City
    operations_file = tmp_path / "operations.yml"
    operations_file.write_text(yaml.safe_dump(operations, allow_unicode=True), encoding="utf-8")
    twilio.auth_token = AUTH_TOKEN  # one token signs Twilio's webhooks and authenticates our REST calls
    config = voice_settings(database_url, tmp_path, graph, twilio_account_sid=ACCOUNT_SID,
                            twilio_caller_id=CALLER_ID, twilio_api_base=twilio.base_url,
                            operations_file=operations_file)
    async for running_app in running(config):
        yield running_app


async def shop(app: VoiceApp) -> dict[str, str]:
    created = await app.services.get(Integrations).create("cli", "clinic", ["notifications:send"])
    return {"Authorization": f"Bearer {created.token}"}


async def notify(app: VoiceApp, headers: dict[str, str], key: str, **more: Any) -> str:
    body = {"to": {"phone": CALLER}, "template": "appointment_reminder", "language": "es", "values": REMINDER,
            "channel": "voice", "idempotency_key": key, **more}
    response = await app.client.post("/api/v1/notifications", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def state(app: VoiceApp, headers: dict[str, str], notification: str) -> dict[str, Any]:
    response = await app.client.get(f"/api/v1/notifications/{notification}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def called(app: VoiceApp, twilio: TwilioStandIn, headers: dict[str, str], notification: str,
                 count: int = 1) -> str:
    """Waits for the outbox to place the call and Twilio to take it; the call's sid."""
    async def taken() -> bool:
        return len(twilio.calls) >= count and (await state(app, headers, notification))["state"] == "sent"
    await until(taken, "the notification's call placed and Twilio's sid stored")
    [row] = await app.rows(Notification, Notification.id == notification)
    [sid] = [o.provider_message_id for o in await app.rows(Outbox, Outbox.event_id == row.event_id)]
    assert sid is not None and sid.startswith("CA")
    return sid


async def twilio_post(app: VoiceApp, notification: str, leg: str, sid: str, query: str = "",
                      **params: str) -> httpx.Response:
    base = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid, "From": CALLER_ID,
            "To": CALLER, "Direction": "outbound-api", "CallStatus": "in-progress", **params}
    return await post_twilio(app.client, PUBLIC, f"{PATH}/{notification}/{leg}{query}", base)


def said(document: str) -> list[tuple[str, str, str]]:
    """(parent tag, language, words) of every <Say>, in order."""
    root = ET.fromstring(document)
    found = [("Response", s.attrib.get("language", ""), s.text or "") for s in root.findall("Say")]
    for gather in root.findall("Gather"):
        found += [("Gather", s.attrib.get("language", ""), s.text or "") for s in gather.findall("Say")]
    return found


async def test_the_call_reads_the_notification_and_digit_1_confirms_it(app: VoiceApp, twilio: TwilioStandIn) -> None:
    headers = await shop(app)
    notification = await notify(app, headers, "cita-1")
    sid = await called(app, twilio, headers, notification)
    [form] = twilio.calls
    assert (form["To"], form["From"], form["Method"]) == (CALLER, CALLER_ID, "POST")
    assert form["Url"] == f"{PUBLIC}{PATH}/{notification}/answer"
    assert form["StatusCallback"] == f"{PUBLIC}{PATH}/{notification}/status"
    assert "Twiml" not in form  # the words travel in our answer to Twilio's signed request, not in the REST call
    unsigned = await app.client.post(f"{PATH}/{notification}/answer", data={"CallSid": sid})
    assert unsigned.status_code == 403
    answer = await twilio_post(app, notification, "answer", sid)
    assert answer.status_code == 200, answer.text
    gather = ET.fromstring(answer.text).find("Gather")
    assert gather is not None and gather.attrib["numDigits"] == "1"
    assert gather.attrib["action"] == f"{PUBLIC}{PATH}/{notification}/gather?try=1"
    assert said(answer.text) == [("Gather", "es-MX", WORDS), ("Gather", "es-MX", PROMPT)]
    silence = await twilio_post(app, notification, "gather", sid, "?try=1")
    assert said(silence.text) == [("Gather", "es-MX", PROMPT)]  # asked once more
    confirmed = await twilio_post(app, notification, "gather", sid, "?try=2", Digits="1")
    assert said(confirmed.text) == [("Response", "es-MX", "Gracias, quedó confirmado. Hasta luego.")]
    assert ET.fromstring(confirmed.text).find("Hangup") is not None
    again = await twilio_post(app, notification, "gather", sid, "?try=1", Digits="2")  # Twilio repeating itself
    assert again.status_code == 200
    assert (await twilio_post(app, notification, "status", sid, CallStatus="completed",
                              CallDuration="31")).status_code == 200
    view = await state(app, headers, notification)
    assert (view["state"], view["channel"]) == ("confirmed", "voice")
    [row] = await app.rows(Notification)
    case = (await app.rows(Case, Case.id == row.case_id))[0]
    assert (case.proactive, case.status, case.channel) == (True, "bot", "voice")
    assert await app.count(Handoff) == 0
    lines = [(e.kind, e.direction, e.text) for e in await app.rows(TimelineEvent, TimelineEvent.case_id == case.id)
             if e.kind != "delivery"]
    assert lines == [("notification", "internal", "Notification appointment_reminder sent for clinic"),
                     ("message", "out", WORDS),
                     ("notify_answer", "in", "Pressed 1 on the appointment_reminder call: confirmed")]


async def test_digit_2_hands_the_case_to_people_with_the_notification(app: VoiceApp, twilio: TwilioStandIn) -> None:
    headers = await shop(app)
    notification = await notify(app, headers, "cita-2")
    sid = await called(app, twilio, headers, notification)
    answer = await twilio_post(app, notification, "answer", sid)
    assert said(answer.text)[0] == ("Gather", "es-MX", WORDS)
    person = await twilio_post(app, notification, "gather", sid, "?try=1", Digits="2")
    assert said(person.text) == [("Response", "es-MX", "Gracias. Una persona de nuestro equipo se comunicará "
                                                        "contigo en breve. Hasta luego.")]
    assert (await twilio_post(app, notification, "gather", sid, "?try=1", Digits="2")).status_code == 200
    assert (await state(app, headers, notification))["state"] == "answered"
    [handoff] = await app.rows(Handoff)
    assert (handoff.reason, handoff.direction) == ("notification_person", "to_human")
    assert handoff.slots == {"notification_id": notification, "notification_template": "appointment_reminder"}
    [row] = await app.rows(Notification)
    [case] = await app.rows(Case, Case.id == row.case_id)
    assert (case.status, case.team) == ("queued", handoff.team) and case.team
    async with app.sessions() as session, session.begin():
        await create_agent(session, NewAgent("sol@example.com", "Sol", "supervisor", (), "a long password 1"),
                           app.operations.teams)
    login = await app.client.post("/inbox/api/login", json={"email": "sol@example.com",
                                                            "password": "a long password 1"})
    assert login.status_code == 200, login.text
    view = (await app.client.get(f"/inbox/api/cases/{case.id}")).json()
    kinds = [(e["kind"], e["text"]) for e in view["events"] if e["kind"] != "delivery"]
    assert kinds[:2] == [("notification", "Notification appointment_reminder sent for clinic"), ("message", WORDS)]
    assert ("notify_answer", "Pressed 2 on the appointment_reminder call: asked to talk to a person") in kinds
    assert view["handoff"]["reason"] == "notification_person"
    today = datetime.now(ZoneInfo(app.operations.timezone)).date()  # the days around it: never across midnight
    around = f"start={today - timedelta(days=1)}&end={today + timedelta(days=1)}"
    counts = await app.client.get(f"/inbox/api/reports/notifications?{around}")
    assert counts.status_code == 200, counts.text
    assert counts.json()["templates"] == [{  # by hand: one call, picked up, 2 pressed, handed to people
        "template": "appointment_reminder", "asked": 1, "sent": 1, "delivered": 1, "read": 0, "answered": 1,
        "failed": 0, "refused": 0, "opt_outs": 0, "reached_people": 1}]


async def test_a_call_nobody_answers_fails_with_twilios_reason(app: VoiceApp, twilio: TwilioStandIn) -> None:
    headers = await shop(app)
    notification = await notify(app, headers, "cita-3")
    sid = await called(app, twilio, headers, notification)
    for status in ("no-answer", "no-answer"):  # Twilio repeating itself: one delivery line
        assert (await twilio_post(app, notification, "status", sid, CallStatus=status)).status_code == 200
    view = await state(app, headers, notification)
    assert (view["state"], view["reason"]) == ("failed", "Not delivered: nobody answered (Twilio: no-answer)")
    assert len(await app.rows(TimelineEvent, TimelineEvent.kind == "delivery")) == 1  # the failure, once
    other = await twilio_post(app, notification, "gather", "CA" + "9" * 32, "?try=1", Digits="1")
    assert ET.fromstring(other.text).find("Hangup") is not None  # not the call placed for it: nothing recorded
    assert (await state(app, headers, notification))["state"] == "failed"
    twilio.script.append((400, {"code": 21215, "message": "Account not authorized to call +525512345678",
                                "status": 400}))
    refused = await notify(app, headers, "cita-4")

    async def failed() -> bool:
        return (await state(app, headers, refused))["state"] == "failed"
    await until(failed, "Twilio's refusal shown")
    assert (await state(app, headers, refused))["reason"] == (
        "Not delivered: Twilio answered HTTP 400: Account not authorized to call +525512345678")
    async with app.sessions() as session, session.begin():  # the customer says STOP: no more calls either
        [customer] = await app.rows(Customer)
        (await session.get_one(Customer, customer.id)).whatsapp_opted_out_at = utcnow()
    calls = len(twilio.calls)
    body = {"to": {"phone": CALLER}, "template": "appointment_reminder", "language": "es", "values": REMINDER,
            "channel": "voice", "idempotency_key": "cita-5"}
    opted_out = await app.client.post("/api/v1/notifications", json=body, headers=headers)
    assert opted_out.status_code == 409 and opted_out.json()["detail"].endswith("opted out of WhatsApp messages")
    no_template = await app.client.post("/api/v1/notifications", headers=headers, json={
        **body, "idempotency_key": "cita-6", "template": None, "text": "Hola", "allow_free_text": True})
    assert no_template.status_code == 422 and no_template.json()["detail"][0]["loc"] == ["body", "template"]
    assert len(twilio.calls) == calls
