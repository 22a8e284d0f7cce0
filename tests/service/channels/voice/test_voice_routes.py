"""The voice webhooks in-process over SQLite and PostgreSQL: signatures, the assistant's call flow without Rasa
(so every turn goes to people), missed-call recovery through the Graph stand-in, PBX events, call cards."""
from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

from handoff.channels.whatsapp.signature import sign
from handoff.core.agents import NewAgent, create_agent
from handoff.store.models import Call, Case, Customer, Handoff, Identity, TimelineEvent, utcnow
from tests.service.channels.voice.conftest import PUBLIC, VoiceApp, running, voice_settings
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.polling import until
from tests.service.support.twilio_calls import CALLER, call_params, post_call_event, post_twilio, twilio_signature
from tests.service.support.whatsapp_webhooks import APP_SECRET, text_webhook

VOICE = "/webhooks/twilio/voice"
PATHS = [VOICE, *(f"{VOICE}/{name}" for name in ("gather", "queue", "dialed", "status", "recording",
                                                  "transcription"))]
WA_ID = CALLER.lstrip("+")


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.text)


async def call(voice: VoiceApp, path: str, sid: str, **params: str) -> httpx.Response:
    return await post_twilio(voice.client, PUBLIC, path, call_params(sid, **params))


async def test_unsigned_or_wrongly_signed_requests_get_403_and_store_nothing(voice: VoiceApp) -> None:
    params = call_params("CA00000000000000000000000000000001")
    for path in PATHS:
        unsigned = await post_twilio(voice.client, PUBLIC, path, params, signed=False)
        wrong_token = await post_twilio(voice.client, PUBLIC, path, params, token="not-our-token")
        own_url = await voice.client.post(path, data=params,  # signed for the URL we see, not the public one
                                          headers={"X-Twilio-Signature": twilio_signature(f"https://test{path}",
                                                                                          params)})
        tampered = await voice.client.post(path, data={**params, "From": "+14155550100"},
                                           headers={"X-Twilio-Signature": twilio_signature(PUBLIC + path, params)})
        assert [r.status_code for r in (unsigned, wrong_token, own_url, tampered)] == [403] * 4, path
    event = {"event": "call.started", "call_id": "pbx-1", "sequence": 1, "from": CALLER, "to": "+525500000000"}
    assert (await post_call_event(voice.client, event, signed=False)).status_code == 403
    assert (await post_call_event(voice.client, event, secret="guess")).status_code == 403
    assert await voice.stored() == (0, 0, 0, 0)


async def test_the_endpoints_refuse_while_their_secret_is_not_configured(database_url: str, tmp_path: Path,
                                                                         graph: GraphStandIn) -> None:
    config = voice_settings(database_url, tmp_path, graph, twilio_auth_token=None, call_events_secret=None)
    async for app in running(config):
        response = await post_twilio(app.client, PUBLIC, VOICE, call_params("CA1"))
        assert response.status_code == 503 and "TWILIO_AUTH_TOKEN" in response.text
        pbx = await post_call_event(app.client, {"event": "call.started", "call_id": "x"})
        assert pbx.status_code == 503 and "CALL_EVENTS_SECRET" in pbx.text
        assert await app.stored() == (0, 0, 0, 0)


async def test_an_incoming_call_is_greeted_and_listened_to_in_the_callers_language(voice: VoiceApp) -> None:
    sid = "CA00000000000000000000000000000002"
    root = twiml(await call(voice, VOICE, sid, CallStatus="ringing"))
    [gather] = root
    assert gather.tag == "Gather" and gather.attrib["input"] == "speech dtmf" and gather.attrib["language"] == "es-MX"
    assert gather.attrib["action"] == f"{PUBLIC}{VOICE}/gather"
    assert gather[0].tag == "Say" and gather[0].attrib["language"] == "es-MX" and "ayudar" in gather[0].text
    [stored] = await voice.rows(Call)
    assert (stored.provider_call_id, stored.status, stored.direction, stored.language) == \
        (sid, "in-progress", "inbound", "es-MX")
    [identity] = await voice.rows(Identity)
    assert (identity.kind, identity.value, identity.verified, identity.verified_by) == \
        ("phone", CALLER, True, "caller_id")
    [case] = await voice.rows(Case)
    assert (case.channel, case.status, case.language) == ("voice", "bot", "es")
    events = await voice.rows(TimelineEvent, order=TimelineEvent.seq)
    assert [(e.kind, e.direction, e.actor) for e in events] == [("call", "in", "customer"),
                                                                ("message", "out", "system")]
    assert events[0].payload["call_id"] == sid and events[1].text == gather[0].text
    assert events[1].delivery_status is None  # spoken in this very answer (not `not_spoken`)
    again = twiml(await call(voice, VOICE, sid))  # Twilio asking again for the same call stores nothing new
    assert again[0].tag == "Gather" and len(await voice.rows(TimelineEvent)) == 2


async def test_silence_is_reprompted_then_the_call_waits_for_a_person(voice: VoiceApp) -> None:
    sid = "CA00000000000000000000000000000003"
    twiml(await call(voice, VOICE, sid))
    reprompt = twiml(await call(voice, f"{VOICE}/gather", sid))  # actionOnEmptyResult: nothing heard
    assert reprompt[0].tag == "Gather" and "No te escuché" in reprompt[0][0].text
    handed = twiml(await call(voice, f"{VOICE}/gather", sid))
    assert [child.tag for child in handed][-1] == "Enqueue" and handed[-1].text == "care"
    assert handed[0].tag == "Say" and "fila" in handed[0].text  # the routing notice: place in line
    [handoff] = await voice.rows(Handoff)
    assert (handoff.reason, handoff.team) == ("no_input", "care")
    [stored] = await voice.rows(Call)
    assert stored.status == "queued" and stored.queued_at is not None


async def test_a_missed_call_sends_the_template_once_and_the_reply_joins_the_same_case(
        voice: VoiceApp, graph: GraphStandIn) -> None:
    sid = "CA00000000000000000000000000000004"
    twiml(await call(voice, VOICE, sid))
    # Rasa is unreachable here: the holding message, a bot_unavailable handoff; nobody online: the overflow menu
    # (no assistant to go on with), and 1 waits in the queue
    menu = twiml(await call(voice, f"{VOICE}/gather", sid, SpeechResult="¿Dónde está mi pedido?",
                            Confidence="0.9"))
    assert menu[0].tag == "Gather" and "marca 4" not in (menu[0][-1].text or "")
    queued = twiml(await call(voice, f"{VOICE}/gather", sid, Digits="1"))
    assert queued[-1].tag == "Enqueue"
    for _ in range(2):  # the queue's hang-up report and the status callback, each delivered twice
        left = await call(voice, f"{VOICE}/queue", sid, QueueResult="hangup", QueueTime="35")
        assert left.status_code == 200
        assert (await call(voice, f"{VOICE}/status", sid, CallStatus="completed", CallDuration="52")).status_code == 200
    await until(lambda: _sent(graph), "the missed-call template sent")
    await asyncio.sleep(0.3)  # anything else the outbox would send has had its chance
    assert graph.sends() == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                              "type": "template", "template": {
                                  "name": "missed_call", "language": {"policy": "deterministic", "code": "es_MX"},
                                  "components": [{"type": "body", "parameters": [{"type": "text",
                                                                                  "text": "cliente"}]}]}}]
    [stored] = await voice.rows(Call)
    assert (stored.status, stored.recovery, stored.duration_seconds) == ("abandoned", "sent", 52)
    follow_ups = [e for e in await voice.rows(TimelineEvent, TimelineEvent.kind == "call")
                  if e.payload.get("event") == "follow_up"]
    assert len(follow_ups) == 1 and follow_ups[0].payload["outcome"] == "sent"
    sent = await voice.rows(TimelineEvent, TimelineEvent.id == follow_ups[0].payload["message_event_id"])
    assert sent[0].channel == "whatsapp" and sent[0].actor == "system"
    await until(lambda: _delivered(voice, sent[0].id), "the template's delivery recorded")
    reply = post_signed_async(voice, text_webhook("Hola, me llamaron?", wamid="wamid.MISSED1", **{"from": WA_ID}))
    assert (await reply).status_code == 200
    await until(lambda: _has_event(voice, "wamid.MISSED1"), "the reply stored")
    [answer] = await voice.rows(TimelineEvent, TimelineEvent.provider_id == "wamid.MISSED1")
    assert answer.case_id == stored.case_id and answer.customer_id == stored.customer_id
    assert len(await voice.rows(Case)) == 1


async def _sent(graph: GraphStandIn) -> bool:
    """The stand-in runs in its own thread: poll it without blocking the app's event loop."""
    return bool(graph.sends())


async def _delivered(voice: VoiceApp, event_id: int) -> bool:
    [event] = await voice.rows(TimelineEvent, TimelineEvent.id == event_id)
    return event.delivery_status not in (None, "pending")


async def _has_event(voice: VoiceApp, provider_id: str) -> bool:
    return bool(await voice.count(TimelineEvent, TimelineEvent.provider_id == provider_id))


async def post_signed_async(voice: VoiceApp, body: bytes) -> httpx.Response:
    """POST /webhooks/whatsapp in-process, signed as Meta signs it."""
    return await voice.client.post("/webhooks/whatsapp", content=body,
                                   headers={"Content-Type": "application/json",
                                            "X-Hub-Signature-256": sign(APP_SECRET, body)})


async def test_a_repeated_pbx_event_is_stored_once_and_builds_one_call_card(voice: VoiceApp) -> None:
    base = {"call_id": "1718000000.42", "from": CALLER, "to": "+525500000000", "direction": "inbound"}
    events = [
        {**base, "event": "call.started", "sequence": 1, "timestamp": "2026-11-25T16:00:00Z"},
        {**base, "event": "call.answered", "sequence": 2, "agent": "Luis (PBX)"},
        {**base, "event": "call.ended", "sequence": 3, "status": "completed", "duration": 95},
        {**base, "event": "call.recording", "sequence": 4,
         "recording": {"url": "https://pbx.example.com/rec/42.mp3", "duration": 90}},
        {**base, "event": "call.transcript", "sequence": 5, "transcript": {"segments": [
            {"speaker": "customer", "start": 0.4, "end": 2.0, "text": "Quiero devolver un pedido"},
            {"speaker": "agent", "start": 2.2, "end": 4.1, "text": "Claro, le ayudo"}]}},
    ]
    for event in events:
        response = await post_call_event(voice.client, event)
        assert response.json() == {"ok": True, "duplicate": False}, response.text
    stored_events = await voice.count(TimelineEvent)
    for event in (events[2], events[4], events[0]):
        assert (await post_call_event(voice.client, event)).json() == {"ok": True, "duplicate": True}
    assert await voice.count(TimelineEvent) == stored_events == 5
    [stored] = await voice.rows(Call)
    assert (stored.status, stored.duration_seconds, stored.agent_name, stored.recording_url) == \
        ("completed", 95, "Luis (PBX)", "https://pbx.example.com/rec/42.mp3")
    assert stored.transcript.startswith("customer: Quiero devolver") and len(stored.transcript_segments) == 2
    assert stored.recovery is None  # answered and completed: not a missed call
    events_of_call = await voice.rows(TimelineEvent)
    assert {e.payload["call_id"] for e in events_of_call} == {"1718000000.42"}
    missing = await post_call_event(voice.client, {"event": "call.answered", "call_id": "unknown-1", "sequence": 1})
    assert missing.status_code == 400 and await voice.count(TimelineEvent) == 5


async def test_a_missed_pbx_call_is_followed_up_once(voice: VoiceApp, graph: GraphStandIn) -> None:
    base = {"call_id": "pbx-missed-7", "from": CALLER, "to": "+525500000000"}
    await post_call_event(voice.client, {**base, "event": "call.started", "sequence": 1})
    for sequence in (2, 2, 3):  # resent, then a later duplicate report of the same end
        await post_call_event(voice.client, {**base, "event": "call.ended", "sequence": sequence,
                                             "status": "no-answer"})
    await until(lambda: _sent(graph), "the missed-call template sent")
    await asyncio.sleep(0.3)
    assert [body["template"]["name"] for body in graph.sends()] == ["missed_call"]


async def test_a_missed_call_of_a_caller_who_opted_out_sends_nothing(voice: VoiceApp, graph: GraphStandIn) -> None:
    async with voice.sessions() as session, session.begin():
        customer = Customer(display_name="Ana", whatsapp_opted_out_at=utcnow())  # "baja" on WhatsApp earlier
        session.add(customer)
        await session.flush()
        session.add(Identity(customer_id=customer.id, kind="phone", value=CALLER, verified=True,
                             verified_by="whatsapp"))
    base = {"call_id": "pbx-missed-8", "from": CALLER, "to": "+525500000000"}
    await post_call_event(voice.client, {**base, "event": "call.started", "sequence": 1})
    await post_call_event(voice.client, {**base, "event": "call.ended", "sequence": 2, "status": "no-answer"})
    [stored] = await voice.rows(Call)
    assert stored.recovery == "skipped"
    [follow_up] = [e for e in await voice.rows(TimelineEvent, TimelineEvent.kind == "call")
                   if e.payload.get("event") == "follow_up"]
    assert follow_up.payload["outcome"] == "skipped" and "opted out" in follow_up.text
    await asyncio.sleep(0.3)
    assert graph.sends() == []


async def test_callbacks_fill_the_call_card_the_inbox_shows(voice: VoiceApp) -> None:
    sid = "CA00000000000000000000000000000005"
    twiml(await call(voice, VOICE, sid))
    await call(voice, f"{VOICE}/status", sid, CallStatus="completed", CallDuration="42")
    await call(voice, f"{VOICE}/recording", sid, RecordingSid="RE1", RecordingStatus="completed",
               RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1", RecordingDuration="40")
    await call(voice, f"{VOICE}/transcription", sid, TranscriptionSid="TR1", TranscriptionStatus="completed",
               TranscriptionText="Hola, quiero saber el horario", RecordingSid="RE1")
    async with voice.sessions() as session, session.begin():
        await create_agent(session, NewAgent("ana@example.com", "Ana", "supervisor", ("care",), "a long password 1"),
                           voice.operations.teams)
    login = await voice.client.post("/inbox/api/login", json={"email": "ana@example.com",
                                                              "password": "a long password 1"})
    assert login.status_code == 200, login.text
    [case] = await voice.rows(Case)
    view = (await voice.client.get(f"/inbox/api/cases/{case.id}")).json()
    [card] = view["calls"]
    assert (card["direction"], card["status"], card["duration_seconds"], card["recording_duration_seconds"]) == \
        ("inbound", "completed", 42, 40)
    assert card["recording_url"].endswith("/Recordings/RE1") and card["transcript"] == "Hola, quiero saber el horario"
    call_events = [e for e in view["events"] if e["kind"] == "call"]
    assert sorted(card["event_ids"]) == [e["id"] for e in call_events] and len(call_events) == 4
    page = await voice.client.get("/inbox")
    assert "media-src 'self' https:" in page.headers["content-security-policy"]
    script = await voice.client.get("/inbox/static/calls.js")
    assert script.status_code == 200 and "mountCallCards" in script.text
