"""Callbacks in-process over SQLite and PostgreSQL: asked for from the inbox, listed by the reading rule, placed
through the Twilio REST stand-in, and finished by Twilio's signed status callbacks (one WhatsApp message through
the Graph stand-in when nobody answered)."""
from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from handoff.channels.whatsapp.signature import sign
from handoff.core.agents import NewAgent, create_agent
from handoff.core.callbacks import UNHEARD_AFTER, request_callback
from handoff.core.cases import open_case
from handoff.core.customers import resolve_customer
from handoff.core.events import EventBus
from handoff.core.queues import Queues
from handoff.store.models import Call, Callback, Case, Customer, Outbox, TimelineEvent, utcnow
from tests.service.channels.voice.conftest import PUBLIC, VoiceApp, running, voice_settings
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.polling import until
from tests.service.support.twilio_api import ACCOUNT_SID, CALLER_ID, TwilioStandIn
from tests.service.support.twilio_calls import AUTH_TOKEN, CALLER, post_twilio, twilio_signature
from tests.service.support.whatsapp_webhooks import APP_SECRET, text_webhook

PASSWORD = "a long password 1"
PATH = "/webhooks/twilio/voice/callbacks"
WA_ID = CALLER.lstrip("+")


@pytest.fixture
async def app(database_url: str, tmp_path: Path, graph: GraphStandIn,
              twilio: TwilioStandIn) -> AsyncIterator[VoiceApp]:
    twilio.auth_token = AUTH_TOKEN  # one token signs Twilio's webhooks and authenticates our REST calls
    config = voice_settings(database_url, tmp_path, graph, twilio_account_sid=ACCOUNT_SID,
                            twilio_caller_id=CALLER_ID, twilio_api_base=twilio.base_url)
    async for running_app in running(config):
        yield running_app


async def customer_case(app: VoiceApp, phone: str = CALLER, team: str | None = "care", name: str = "Lucía") -> Case:
    """A customer known by a verified phone, with an open case held by `team`."""
    async with app.sessions() as session, session.begin():
        customer = await resolve_customer(session, "phone", phone, verified=True, verified_by="caller_id",
                                          display_name=name)
        case = await open_case(session, customer, "webchat", follow_up_window_hours=72)
        case.team, case.status = team, "queued" if team else "bot"
        return case


async def agent(app: VoiceApp, email: str, role: str = "agent", teams: tuple[str, ...] = ("care",)) -> None:
    async with app.sessions() as session, session.begin():
        await create_agent(session, NewAgent(email, email.split("@")[0], role, teams, PASSWORD), app.operations.teams)


async def login(app: VoiceApp, email: str) -> httpx.AsyncClient:
    """A second client of the same app, signed in, with its CSRF header."""
    client = httpx.AsyncClient(transport=app.client._transport, base_url="https://test", timeout=30)
    response = await client.post("/inbox/api/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def iso(moment: datetime) -> str:
    return moment.isoformat()


def window(start_minutes: int = -10, end_minutes: int = 50) -> dict[str, str]:
    now = datetime.now(timezone.utc)
    return {"window_start": iso(now + timedelta(minutes=start_minutes)),
            "window_end": iso(now + timedelta(minutes=end_minutes))}


async def twilio_post(app: VoiceApp, callback_id: int, leg: str, sid: str, **params: str) -> httpx.Response:
    """As Twilio posts about a callback's call: signed over the public URL with the account's auth token."""
    base = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid, "From": CALLER_ID,
            "To": CALLER, "Direction": "outbound-api", "CallStatus": "in-progress", **params}
    return await post_twilio(app.client, PUBLIC, f"{PATH}/{callback_id}/{leg}", base)


async def test_a_request_is_validated_and_is_one_line_on_the_timeline(app: VoiceApp) -> None:
    case = await customer_case(app)
    other = await customer_case(app, phone="+525587654321", team="returns")
    await agent(app, "ana@example.com")
    ana = await login(app, "ana@example.com")
    url = f"/inbox/api/cases/{case.id}/callbacks"
    now = datetime.now(timezone.utc)
    refused = [
        window(-120, -60),  # already passed
        window(60, 30),  # ends before it starts
        window(0, 60 * 30),  # longer than a day
        {"window_start": (now + timedelta(hours=1)).replace(tzinfo=None).isoformat(),  # no time zone
         "window_end": (now + timedelta(hours=2)).replace(tzinfo=None).isoformat()},
        {**window(), "phone": "12"},
    ]
    for body in refused:
        response = await ana.post(url, json=body)
        assert response.status_code == 422, (body, response.text)
    assert (await ana.post(f"/inbox/api/cases/{other.id}/callbacks", json=window())).status_code == 403
    assert await app.count(Callback) == 0 and await app.count(TimelineEvent) == 0
    created = await ana.post(url, json={**window(), "phone": "55 1111 2222"})  # as written in Mexico
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["phone"], body["status"], body["team"], body["requested_by"], body["window"]) == \
        ("+525511112222", "requested", "care", "agent", "open")
    again = await ana.post(url, json=window(60, 120))  # an open callback of the case is the one request
    assert again.status_code == 201 and again.json()["id"] == body["id"] and await app.count(Callback) == 1
    [event] = await app.rows(TimelineEvent, TimelineEvent.case_id == case.id)
    assert (event.kind, event.actor, event.payload["event"], event.payload["callback"]) == \
        ("callback", "agent:" + (await app.rows(Callback))[0].requested_by_agent_id, "requested", body["id"])
    own_phone = await customer_case(app, phone="+525599998888", team="care")
    mine = await ana.post(f"/inbox/api/cases/{own_phone.id}/callbacks", json=window())
    assert mine.status_code == 201 and mine.json()["phone"] == "+525599998888"  # no phone: the customer's own
    await ana.aclose()


async def test_the_list_follows_the_reading_rule_with_open_windows_first(app: VoiceApp) -> None:
    now = datetime.now(timezone.utc)
    spans = {"past": (-180, -120), "upcoming": (120, 180), "open": (-30, 30)}
    made: dict[str, int] = {}
    for index, (label, (start, end)) in enumerate(spans.items()):
        case = await customer_case(app, phone=f"+52551000000{index}")
        async with app.sessions() as session, session.begin():
            found = await session.get_one(Case, case.id)
            callback = await request_callback(session, found, phone=None, actor="customer",
                                              window_start=now + timedelta(minutes=start),
                                              window_end=now + timedelta(minutes=end), now=now + timedelta(hours=-4))
            made[label] = callback.id
    returns_case = await customer_case(app, phone="+525520000000", team="returns")
    async with app.sessions() as session, session.begin():
        found = await session.get_one(Case, returns_case.id)
        made["returns"] = (await request_callback(session, found, phone=None, actor="system",
                                                  window_start=now, window_end=now + timedelta(hours=1))).id
    await agent(app, "ana@example.com")
    await agent(app, "rui@example.com", teams=("returns",))
    await agent(app, "sol@example.com", role="supervisor", teams=())
    ana, rui, sol = [await login(app, f"{who}@example.com") for who in ("ana", "rui", "sol")]
    listed = (await ana.get("/inbox/api/callbacks")).json()
    assert [item["id"] for item in listed] == [made["open"], made["upcoming"], made["past"]]
    assert [item["window"] for item in listed] == ["open", "upcoming", "past"]
    assert listed[0]["requested_by"] == "customer" and listed[0]["customer_name"] == "Lucía"
    assert [item["id"] for item in (await rui.get("/inbox/api/callbacks")).json()] == [made["returns"]]
    assert {item["id"] for item in (await sol.get("/inbox/api/callbacks")).json()} == set(made.values())
    assert (await ana.get("/inbox/api/callbacks?status=answered")).json() == []
    assert (await ana.get("/inbox/api/callbacks?status=whatever")).status_code == 422
    refused = await rui.post(f"/inbox/api/callbacks/{made['open']}/place")  # not rui's team: as if it did not exist
    assert refused.status_code == 404
    assert (await rui.post(f"/inbox/api/callbacks/{made['open']}/cancel")).status_code == 404
    cancelled = await ana.post(f"/inbox/api/callbacks/{made['past']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await ana.post(f"/inbox/api/callbacks/{made['past']}/cancel")).status_code == 409
    assert [item["id"] for item in (await ana.get("/inbox/api/callbacks")).json()] == [made["open"], made["upcoming"]]
    assert [item["id"] for item in (await sol.get("/inbox/api/callbacks?status=cancelled")).json()] == [made["past"]]
    for client in (ana, rui, sol):
        await client.aclose()


async def placed(app: VoiceApp, twilio: TwilioStandIn, *, phone: str = "sip:ana@pbx.example.com") -> tuple[
        httpx.AsyncClient, int, str]:
    """Ana (care, phone set) places a callback of a care case; (her client, the callback id, the call sid)."""
    case = await customer_case(app)
    await agent(app, "ana@example.com")
    ana = await login(app, "ana@example.com")
    callback_id = (await ana.post(f"/inbox/api/cases/{case.id}/callbacks", json=window())).json()["id"]
    no_phone = await ana.post(f"/inbox/api/callbacks/{callback_id}/place")
    assert no_phone.status_code == 409 and "phone" in no_phone.text and twilio.calls == []
    set_phone = await ana.put("/inbox/api/me/phone", json={"phone": phone})
    assert set_phone.status_code == 200 and set_phone.json()["phone"] == phone
    response = await ana.post(f"/inbox/api/callbacks/{callback_id}/place")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["attempts"]) == ("placing", 1)
    return ana, callback_id, (await app.rows(Callback))[0].provider_call_id or ""


async def test_placing_calls_the_agent_then_the_bridge_dials_the_customer(app: VoiceApp, twilio: TwilioStandIn,
                                                                        graph: GraphStandIn) -> None:
    ana, callback_id, sid = await placed(app, twilio)
    [form] = twilio.calls
    assert (form["To"], form["From"]) == ("sip:ana@pbx.example.com", CALLER_ID)
    assert form["Url"] == f"{PUBLIC}{PATH}/{callback_id}/bridge" and form["Method"] == "POST"
    assert form["StatusCallback"] == f"{PUBLIC}{PATH}/{callback_id}/agent"
    assert sid.startswith("CA")
    again = await ana.post(f"/inbox/api/callbacks/{callback_id}/place")  # already placing: not a second call
    assert again.status_code == 409 and len(twilio.calls) == 1
    [call] = await app.rows(Call)
    assert (call.provider_call_id, call.direction, call.to_number, call.status, call.agent_name) == \
        (sid, "outbound", CALLER, "ringing", "ana")
    bridge = await twilio_post(app, callback_id, "bridge", sid, To="sip:ana@pbx.example.com")
    assert bridge.status_code == 200, bridge.text
    root = ET.fromstring(bridge.text)
    assert [child.tag for child in root] == ["Say", "Dial"]
    dial = root[1]
    assert dial.attrib["callerId"] == CALLER_ID and dial[0].tag == "Number" and dial[0].text == CALLER
    assert dial[0].attrib["statusCallback"] == f"{PUBLIC}{PATH}/{callback_id}/customer"
    child = "CA" + "7" * 32
    done = await twilio_post(app, callback_id, "customer", child, Direction="outbound-dial", ParentCallSid=sid,
                             CallStatus="completed", CallDuration="184")
    assert done.status_code == 200
    [callback] = await app.rows(Callback)
    assert (callback.status, callback.missed_message) == ("answered", None) and callback.ended_at is not None
    [call] = await app.rows(Call)
    assert (call.status, call.duration_seconds) == ("completed", 184)
    outcome = [e for e in await app.rows(TimelineEvent, TimelineEvent.kind == "callback")
               if e.payload["event"] == "outcome"]
    assert len(outcome) == 1 and outcome[0].payload["outcome"] == "answered"
    listed = (await ana.get("/inbox/api/callbacks?status=answered")).json()
    assert [item["id"] for item in listed] == [callback_id]
    await asyncio.sleep(0.2)
    assert graph.sends() == []
    await ana.aclose()


async def test_an_unanswered_callback_sends_one_whatsapp_template(app: VoiceApp, twilio: TwilioStandIn,
                                                                graph: GraphStandIn) -> None:
    ana, callback_id, sid = await placed(app, twilio, phone="+525500000099")
    assert twilio.calls[0]["To"] == "+525500000099"
    assert (await twilio_post(app, callback_id, "bridge", sid)).status_code == 200
    child = "CA" + "8" * 32
    for status in ("no-answer", "no-answer", "busy"):  # Twilio repeating itself, then a late contradicting one
        response = await twilio_post(app, callback_id, "customer", child, Direction="outbound-dial",
                                     ParentCallSid=sid, CallStatus=status)
        assert response.status_code == 200
    await until(lambda: _sent(graph), "the callback_missed template sent")
    await asyncio.sleep(0.3)
    assert graph.sends() == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                              "type": "template", "template": {
                                  "name": "callback_missed", "language": {"policy": "deterministic", "code": "es_MX"},
                                  "components": [{"type": "body", "parameters": [{"type": "text",
                                                                                  "text": "Lucía"}]}]}}]
    [callback] = await app.rows(Callback)
    assert (callback.status, callback.missed_message) == ("no_answer", "sent")
    [call] = await app.rows(Call)
    assert call.status == "no-answer"
    ended = [e for e in await app.rows(TimelineEvent, TimelineEvent.kind == "call") if e.payload["event"] == "ended"]
    assert len(ended) == 1 and ended[0].payload["status"] == "no-answer"
    lines = [e.payload["event"] for e in await app.rows(TimelineEvent, TimelineEvent.kind == "callback")]
    assert lines == ["requested", "placed", "outcome", "missed_message"]
    await ana.aclose()


async def test_a_customer_who_opted_out_gets_no_whatsapp_message(app: VoiceApp, twilio: TwilioStandIn,
                                                                graph: GraphStandIn) -> None:
    ana, callback_id, sid = await placed(app, twilio)
    [callback] = await app.rows(Callback)
    async with app.sessions() as session, session.begin():
        customer = await session.get_one(Customer, callback.customer_id)
        customer.whatsapp_opted_out_at = datetime.now(timezone.utc)  # a "baja" on WhatsApp earlier
    await twilio_post(app, callback_id, "bridge", sid)
    busy = await twilio_post(app, callback_id, "customer", "CA" + "6" * 32, ParentCallSid=sid, CallStatus="busy")
    assert busy.status_code == 200
    [callback] = await app.rows(Callback)
    assert (callback.status, callback.missed_message) == ("busy", "skipped")
    [line] = [e for e in await app.rows(TimelineEvent, TimelineEvent.kind == "callback")
              if e.payload["event"] == "missed_message"]
    assert line.payload["outcome"] == "skipped" and "opted out" in (line.text or "")
    await asyncio.sleep(0.3)
    assert graph.sends() == [] and await app.count(Outbox) == 0
    await ana.aclose()


async def test_inside_the_window_the_missed_callback_is_free_text(app: VoiceApp, twilio: TwilioStandIn,
                                                                 graph: GraphStandIn) -> None:
    body = text_webhook("Llámenme por favor", wamid="wamid.CB1", **{"from": WA_ID})
    wrote = await app.client.post("/webhooks/whatsapp", content=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)})
    assert wrote.status_code == 200
    await until(lambda: _has_case(app), "the WhatsApp message stored")
    [case] = await app.rows(Case)
    async with app.sessions() as session, session.begin():
        found = await session.get_one(Case, case.id)
        found.team = "care"
    await agent(app, "ana@example.com")
    ana = await login(app, "ana@example.com")
    callback_id = (await ana.post(f"/inbox/api/cases/{case.id}/callbacks", json=window())).json()["id"]
    await ana.put("/inbox/api/me/phone", json={"phone": "+525500000099"})
    assert (await ana.post(f"/inbox/api/callbacks/{callback_id}/place")).status_code == 200
    sid = (await app.rows(Callback))[0].provider_call_id or ""
    await twilio_post(app, callback_id, "bridge", sid)
    for _ in range(2):
        busy = await twilio_post(app, callback_id, "customer", "CA" + "9" * 32, ParentCallSid=sid, CallStatus="busy")
        assert busy.status_code == 200
    await until(lambda: _missed_texts(graph), "the free text sent")
    await asyncio.sleep(0.3)
    assert len(await _missed_texts(graph)) == 1
    assert not [body for body in graph.sends() if body.get("type") == "template"]
    [callback] = await app.rows(Callback)
    assert (callback.status, callback.missed_message) == ("busy", "sent")
    await ana.aclose()


async def test_an_agent_who_does_not_answer_leaves_it_queued_and_a_refused_call_too(
        app: VoiceApp, twilio: TwilioStandIn) -> None:
    ana, callback_id, sid = await placed(app, twilio)
    missed = await twilio_post(app, callback_id, "agent", sid, CallStatus="no-answer")
    assert missed.status_code == 200
    [callback] = await app.rows(Callback)
    assert (callback.status, callback.attempts, callback.provider_call_id) == ("requested", 1, None)
    twilio.script.append((400, {"code": 21215, "message": "Geo permission", "status": 400}))
    refused = await ana.post(f"/inbox/api/callbacks/{callback_id}/place")
    assert refused.status_code == 502 and "Geo permission" in refused.text
    [callback] = await app.rows(Callback)
    assert (callback.status, callback.attempts) == ("requested", 2)
    unplaced = [e.payload["why"] for e in await app.rows(TimelineEvent, TimelineEvent.kind == "callback")
                if e.payload["event"] == "unplaced"]
    assert unplaced[0] == "the agent's phone: no-answer" and "Geo permission" in unplaced[1]
    await ana.aclose()


async def test_a_callback_the_provider_never_reported_on_goes_back_to_the_team(app: VoiceApp,
                                                                              twilio: TwilioStandIn) -> None:
    ana, callback_id, _sid = await placed(app, twilio)  # … and Twilio's status callbacks never come
    queues = Queues(app.sessions, EventBus([]))
    assert await queues.release_unheard_callbacks() == []  # just placed: not yet
    async with app.sessions() as session, session.begin():
        await session.execute(update(Callback).where(Callback.id == callback_id)
                              .values(placed_at=utcnow() - UNHEARD_AFTER - timedelta(seconds=1)))
    [case_id] = await queues.release_unheard_callbacks()
    [callback] = await app.rows(Callback)
    assert (callback.case_id, callback.status, callback.provider_call_id) == (case_id, "requested", None)
    assert await queues.release_unheard_callbacks() == []  # once
    listed = await ana.get("/inbox/api/callbacks")
    assert [item["id"] for item in listed.json()] == [callback_id]  # the team's task again
    unplaced = [e.payload["why"] for e in await app.rows(TimelineEvent, TimelineEvent.kind == "callback")
                if e.payload["event"] == "unplaced"]
    assert unplaced == ["no word from the provider"]
    await ana.aclose()


async def test_unsigned_callback_webhooks_are_refused_and_change_nothing(app: VoiceApp,
                                                                       twilio: TwilioStandIn) -> None:
    ana, callback_id, sid = await placed(app, twilio)
    params = {"AccountSid": ACCOUNT_SID, "CallSid": sid, "From": CALLER_ID, "To": CALLER,
              "Direction": "outbound-dial", "CallStatus": "no-answer"}
    for leg in ("bridge", "agent", "customer"):
        path = f"{PATH}/{callback_id}/{leg}"
        unsigned = await app.client.post(path, data=params)
        wrong = await app.client.post(path, data=params,
                                      headers={"X-Twilio-Signature": twilio_signature(PUBLIC + path, params,
                                                                                      "not-our-token")})
        other = await app.client.post(path, data=params, headers={  # signed for another callback's URL
            "X-Twilio-Signature": twilio_signature(f"{PUBLIC}{PATH}/{callback_id + 1}/{leg}", params)})
        assert [r.status_code for r in (unsigned, wrong, other)] == [403, 403, 403], leg
    [callback] = await app.rows(Callback)
    assert (callback.status, callback.bridged_at, callback.missed_message) == ("placing", None, None)
    await ana.aclose()


async def test_an_admin_sets_an_agents_phone_and_a_bad_one_is_refused(app: VoiceApp) -> None:
    await agent(app, "ana@example.com")
    await agent(app, "root@example.com", role="admin", teams=())
    ana, root = await login(app, "ana@example.com"), await login(app, "root@example.com")
    [ana_id] = [a["id"] for a in (await root.get("/inbox/api/agents")).json() if a["email"] == "ana@example.com"]
    assert (await ana.put(f"/inbox/api/agents/{ana_id}/phone", json={"phone": "+525511112222"})).status_code == 200
    others = await ana.put(f"/inbox/api/agents/{(await root.get('/inbox/api/me')).json()['agent']['id']}/phone",
                           json={"phone": "+525511112222"})
    assert others.status_code == 403
    for bad in ("sip:no host", "hello", "sip:@x"):
        assert (await ana.put("/inbox/api/me/phone", json={"phone": bad})).status_code == 422, bad
    done = await root.put(f"/inbox/api/agents/{ana_id}/phone", json={"phone": "55 3333 4444"})
    assert done.status_code == 200 and done.json()["phone"] == "+525533334444"
    cleared = await ana.put("/inbox/api/me/phone", json={"phone": None})
    assert cleared.json()["phone"] is None
    await ana.aclose()
    await root.aclose()


async def _sent(graph: GraphStandIn) -> bool:
    return bool(graph.sends())


async def _missed_texts(graph: GraphStandIn) -> list[dict[str, object]]:
    return [body for body in graph.sends()
            if body.get("type") == "text" and "te llamamos como pediste" in body["text"]["body"]]


async def _has_case(app: VoiceApp) -> bool:
    return await app.count(Case) > 0
