"""Issue 14's rules end to end with the trained assistant: signed WhatsApp webhooks in, the Graph API stand-in
out, agents through the inbox's REST API, the decisions read back from the service's database."""
from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import holidays
import jwt
import pytest
import yaml
from sqlalchemy import or_, select

from handoff.core.business_hours import DAY_NAMES, WEEKDAYS
from handoff.settings import REPO_ROOT
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Callback, Case, Handoff, Identity
from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn, fixture
from tests.service.support.polling import until
from tests.service.support.stack import Service
from tests.service.support.webchat_client import Visitor
from tests.service.support.whatsapp_webhooks import APP_SECRET, post_signed

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphStandIn]:
    standin = GraphStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def service(service_factory: Callable[..., Service], graph: GraphStandIn) -> Service:
    """The trained assistant's service, its WhatsApp door signed and sending to this module's stand-in."""
    return service_factory(INBOX_LOGIN_ATTEMPTS="1000", WHATSAPP_APP_SECRET=APP_SECRET,
                           WHATSAPP_VERIFY_TOKEN="verify", WHATSAPP_ACCESS_TOKEN=TOKEN,
                           WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID, WHATSAPP_API_BASE=graph.base_url)


@pytest.fixture(scope="module")
def opening() -> datetime:
    """The first working day from the day after tomorrow, 09:00 UTC: the only opening of the closed operation."""
    day = datetime.now(timezone.utc).date() + timedelta(days=2)
    while day in holidays.country_holidays("MX"):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def closed_service(service_factory: Callable[..., Service], graph: GraphStandIn, opening: datetime,
                   tmp_path_factory: pytest.TempPathFactory) -> Service:
    """The same service on an operation open only at `opening`'s weekday from 09:00 (UTC, no holidays)."""
    operations = yaml.safe_load((REPO_ROOT / "operations.yml").read_text(encoding="utf-8"))
    operations["timezone"] = "UTC"
    operations["business_hours"] = {day: [] for day in WEEKDAYS}
    operations["business_hours"][WEEKDAYS[opening.weekday()]] = [["09:00", "18:00"]]
    operations["closures"] = []
    operations["holidays"] = {"country": "MX", "subdivision": None}
    path: Path = tmp_path_factory.mktemp("closed") / "operations.yml"
    path.write_text(yaml.safe_dump(operations, allow_unicode=True), encoding="utf-8")
    return service_factory(INBOX_LOGIN_ATTEMPTS="1000", WHATSAPP_APP_SECRET=APP_SECRET,
                           WHATSAPP_VERIFY_TOKEN="verify", WHATSAPP_ACCESS_TOKEN=TOKEN,
                           WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID, WHATSAPP_API_BASE=graph.base_url,
                           OPERATIONS_FILE=str(path))


SITE_SECRET = "operations-rules-site-secret-0123456789"


@pytest.fixture(scope="module")
def recovering_service(service_factory: Callable[..., Service], graph: GraphStandIn) -> Service:
    """The service with the site's signed identities and web chats recovered after 4 silent seconds."""
    return service_factory(INBOX_LOGIN_ATTEMPTS="1000", WHATSAPP_APP_SECRET=APP_SECRET,
                           WHATSAPP_VERIFY_TOKEN="verify", WHATSAPP_ACCESS_TOKEN=TOKEN,
                           WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID, WHATSAPP_API_BASE=graph.base_url,
                           WEBCHAT_IDENTITY_SECRET=SITE_SECRET, ABANDONED_CHAT_RECOVERY_SECONDS="4",
                           OUTBOX_BACKOFF_SECONDS="0.05")


def templates_to(graph: GraphStandIn, wa_id: str) -> list[dict[str, Any]]:
    return [body["template"] for body in graph.sends() if body.get("to") == wa_id and body.get("type") == "template"]


def writes(service: Service, wa_id: str, body: str) -> None:
    """Meta's documented text-message webhook from `wa_id`, signed."""
    data = fixture("webhook_text_message.json")
    value = data["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0].update({"id": f"wamid.{uuid.uuid4().hex}", "from": wa_id, "text": {"body": body},
                                 "timestamp": str(int(time.time()))})
    response = post_signed(service.base_url, json.dumps(data).encode())
    assert response.status_code == 200, response.text


def taps(service: Service, wa_id: str, reply_id: str, title: str) -> None:
    """Meta's documented button-reply webhook from `wa_id`, signed."""
    data = fixture("webhook_interactive_button_reply.json")
    value = data["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0].update({"id": f"wamid.{uuid.uuid4().hex}", "from": wa_id, "timestamp": str(int(time.time())),
                                 "interactive": {"type": "button_reply",
                                                 "button_reply": {"id": reply_id, "title": title}}})
    response = post_signed(service.base_url, json.dumps(data).encode())
    assert response.status_code == 200, response.text


def buttons_to(graph: GraphStandIn, wa_id: str) -> list[list[dict[str, str]]]:
    """The reply buttons of each interactive message the customer got."""
    return [[button["reply"] for button in body["interactive"]["action"]["buttons"]]
            for body in graph.sends() if body.get("to") == wa_id and body.get("type") == "interactive"
            and body["interactive"].get("type") == "button"]


async def read(service: Service, query: Callable[[Any], Any]) -> Any:
    engine = create_engine(service.database_url)
    try:
        async with session_factory(engine)() as session:
            return await query(session)
    finally:
        await engine.dispose()


async def latest_case(service: Service, wa_id: str) -> Case | None:
    async def query(session: Any) -> Case | None:
        owner = await session.scalar(select(Identity.customer_id).where(or_(
            (Identity.kind == "phone") & (Identity.value == f"+{wa_id}"),
            (Identity.kind == "whatsapp") & (Identity.value == wa_id))))
        return await session.scalar(select(Case).where(Case.customer_id == owner)
                                    .order_by(Case.created_at.desc()).limit(1)) if owner else None
    return await read(service, query)


async def assigned_case(service: Service, wa_id: str, after: str | None = None) -> Case:
    """The customer's newest case once people hold it (a case other than `after`)."""
    async def check() -> Case | None:
        case = await latest_case(service, wa_id)
        return case if case is not None and case.id != after and case.status == "assigned" else None
    return await until(check, f"{wa_id}'s case assigned", timeout=90)


async def decisions(service: Service, case_id: str) -> list[tuple[str | None, str | None]]:
    async def query(session: Any) -> list[tuple[str | None, str | None]]:
        rows = await session.scalars(select(Handoff).where(Handoff.case_id == case_id,
                                                           Handoff.direction == "to_human").order_by(Handoff.id))
        return [(row.decision, row.decision_reason) for row in rows]
    return await read(service, query)


async def online(service: Service, email: str, capacity: int) -> AgentClient:
    create_agent(service.database_url, email, teams="care", capacity=capacity)
    agent = AgentClient(service.base_url)
    assert (await agent.login(email)).status_code == 200
    assert (await agent.post("/presence", {"presence": "online"})).status_code == 200
    return agent


async def test_a_returning_customer_is_offered_to_their_agent_while_a_less_busy_colleague_is_online(
        service: Service) -> None:
    returning, other = "16505550141", "16505550142"
    ana = await online(service, f"ana-{uuid.uuid4().hex[:6]}@example.com", capacity=3)
    writes(service, returning, "quiero hablar con una persona")
    first = await assigned_case(service, returning)
    assert first.assignee_id == ana.me["id"]
    assert (await ana.post(f"/cases/{first.id}/reply", {"text": "Hola, soy Ana. Ya quedó tu cambio."})).status_code \
        == 200
    assert (await ana.post(f"/cases/{first.id}/resolve", {"disposition": "resolved"})).status_code == 200

    writes(service, other, "quiero hablar con un asesor")  # ana holds one case now …
    assert (await assigned_case(service, other)).assignee_id == ana.me["id"]
    bea = await online(service, f"bea-{uuid.uuid4().hex[:6]}@example.com", capacity=3)  # … bea none

    writes(service, returning, "hola otra vez, necesito hablar con una persona")
    again = await assigned_case(service, returning, after=first.id)
    assert again.previous_case_id == first.id
    assert again.assignee_id == ana.me["id"] != bea.me["id"]
    assert await decisions(service, again.id) == [("assign", "follow_up_agent")]
    for agent in (ana, bea):  # off shift: the module's later handoffs are not theirs
        assert (await agent.post("/presence", {"presence": "offline"})).status_code == 200
        await agent.close()


async def test_an_after_hours_handoff_tells_the_opening_time_and_keeps_the_case_for_it(
        closed_service: Service, graph: GraphStandIn, opening: datetime) -> None:
    customer = "16505550143"
    writes(closed_service, customer, "quiero hablar con una persona")
    day = DAY_NAMES["es"][opening.weekday()]
    graph.wait_for(lambda: any(f"abrimos el {day} a las 09:00" in text for text in graph.texts_to(customer)),
                   what=f"the customer told we open {day} at 09:00")

    async def kept() -> Case | None:
        case = await latest_case(closed_service, customer)
        return case if case is not None and case.status == "queued" else None
    case = await until(kept, "the case queued for the opening")
    assert case.assignee_id is None and case.kept_until is not None
    assert case.kept_until.replace(tzinfo=timezone.utc) == opening
    assert await decisions(closed_service, case.id) == [("after_hours", "closed")]


async def test_a_web_chat_left_waiting_continues_on_whatsapp_exactly_once(recovering_service: Service,
                                                                         graph: GraphStandIn) -> None:
    wa_id = "16505550144"
    token = jwt.encode({"sub": "crm-144", "phone": f"+{wa_id}", "exp": int(time.time()) + 3600}, SITE_SECRET,
                       algorithm="HS256")
    visitor = Visitor(recovering_service.base_url)
    await visitor.connect()
    replies = await visitor.say("quiero hablar con una persona", identity_token=token)
    assert replies, "the assistant answered"

    async def queued() -> Case | None:
        case = await latest_case(recovering_service, wa_id)
        return case if case is not None and case.status == "queued" else None
    case = await until(queued, "the web chat queued for people")
    assert case.channel == "webchat"
    await visitor.close()  # the visitor leaves and stays silent

    graph.wait_for(lambda: len(templates_to(graph, wa_id)) == 1, timeout=60, what="one recovery template")
    sent = templates_to(graph, wa_id)[0]
    assert sent["name"] == "chat_recovery" and sent["language"]["code"] == "es_MX"
    await asyncio.sleep(8)  # two more silences' worth of sweeps: still one message
    assert len(templates_to(graph, wa_id)) == 1

    writes(recovering_service, wa_id, "sí, aquí sigo")  # the reply continues the same case

    async def continued() -> Case | None:
        latest = await latest_case(recovering_service, wa_id)
        return latest if latest is not None and latest.channel == "whatsapp" and latest.last_customer_message_at \
            and latest.last_customer_message_at > case.last_customer_message_at else None
    assert (await until(continued, "the WhatsApp reply on the case")).id == case.id


async def test_the_assistant_quotes_back_what_an_agent_promised(service: Service, graph: GraphStandIn) -> None:
    customer = "16505550145"
    rosa = await online(service, f"rosa-{uuid.uuid4().hex[:6]}@example.com", capacity=3)
    writes(service, customer, "quiero hablar con una persona")
    case = await assigned_case(service, customer)
    assert case.assignee_id == rosa.me["id"]
    due = (datetime.now(timezone.utc) + timedelta(days=5)).replace(hour=18, minute=0, second=0, microsecond=0)
    promised = await rosa.post(f"/cases/{case.id}/commitments",
                               {"text": "Reembolso de $450 a tu tarjeta", "due_at": due.isoformat()})
    assert promised.status_code == 201, promised.text
    assert (await rosa.post(f"/cases/{case.id}/return")).status_code == 200  # back to the assistant
    before = len(graph.texts_to(customer))

    writes(service, customer, "¿y mi reembolso?")
    graph.wait_for(lambda: any("Reembolso de $450 a tu tarjeta" in text for text in graph.texts_to(customer)[before:]),
                   what="the assistant quoting the promise")
    quoted = next(text for text in graph.texts_to(customer)[before:] if "Reembolso de $450" in text)
    assert str(due.day) in quoted  # "… para el 6 de diciembre."
    assert (await rosa.post("/presence", {"presence": "offline"})).status_code == 200
    await rosa.close()


async def test_a_whatsapp_customer_asks_for_a_call_and_taps_tomorrow_morning(service: Service,
                                                                            graph: GraphStandIn) -> None:
    """The assistant asks when with reply buttons; the tap books a callback of the team at the customer's own
    WhatsApp number, and the customer reads the day and times; the assistant keeps the conversation."""
    customer = "16505550177"
    writes(service, customer, "me pueden llamar por telefono?")
    graph.wait_for(lambda: any(len(buttons) == 3 for buttons in buttons_to(graph, customer)),
                   what="the window question with three buttons")
    [buttons] = [buttons for buttons in buttons_to(graph, customer) if len(buttons) == 3]
    assert [button["title"] for button in buttons] == ["Lo antes posible", "Hoy por la tarde",
                                                       "Mañana por la mañana"]
    taps(service, customer, buttons[2]["id"], buttons[2]["title"])
    graph.wait_for(lambda: any("Te llamaremos" in text for text in graph.texts_to(customer)),
                   what="the booked call's confirmation")
    told = next(text for text in graph.texts_to(customer) if "Te llamaremos" in text)
    assert re.search(r"número que termina en 0177 (mañana|el \w+) entre las 09:00 y las 12:00", told), told

    async def booked(session: Any) -> list[Callback]:
        return list(await session.scalars(select(Callback).where(Callback.phone == f"+{customer}")))
    [callback] = await read(service, booked)
    case = await latest_case(service, customer)
    assert case is not None and case.status == "bot" and callback.case_id == case.id
    assert (callback.team, callback.status, callback.requested_by) == ("care", "requested", "customer")


async def overflow_of(service: Service, case_id: str) -> tuple[str | None, str | None]:
    async def query(session: Any) -> tuple[str | None, str | None]:
        handoff = await session.scalar(select(Handoff).where(Handoff.case_id == case_id,
                                                            Handoff.direction == "to_human").order_by(Handoff.id))
        return handoff.decision, handoff.overflow_choice
    return await read(service, query)


async def test_with_nobody_online_a_whatsapp_customer_chooses_the_assistant_and_people_take_over_later(
        service: Service, graph: GraphStandIn) -> None:
    customer = "16505550146"
    writes(service, customer, "quiero hablar con una persona")
    graph.wait_for(lambda: any(any(button["id"].startswith("/overflow") for button in buttons)
                               for buttons in buttons_to(graph, customer)), what="the overflow buttons")
    offered = next(buttons for buttons in buttons_to(graph, customer)
                   if any(button["id"].startswith("/overflow") for button in buttons))
    choices = {json.loads(button["id"].removeprefix("/overflow"))["choice"]: button for button in offered}
    assert set(choices) == {"wait", "callback", "assistant"}  # on WhatsApp already: not offered WhatsApp

    async def queued() -> Case | None:
        case = await latest_case(service, customer)
        return case if case is not None and case.status == "queued" else None
    case = await until(queued, "the case queued for people")
    taps(service, customer, choices["assistant"]["id"], choices["assistant"]["title"])

    async def chosen() -> str | None:
        return (await overflow_of(service, case.id))[1]
    assert await until(chosen, "the choice recorded") == "assistant"
    before = len(graph.texts_to(customer))
    writes(service, customer, "¿a qué hora abren?")  # the assistant keeps the customer company …
    graph.wait_for(lambda: any(re.search(r"\d{1,2}:\d{2}", text) for text in graph.texts_to(customer)[before:]),
                   what="the assistant's opening hours")
    assert (await latest_case(service, customer)).status == "queued"  # … while the case keeps its place

    lucia = await online(service, f"lucia-{uuid.uuid4().hex[:6]}@example.com", capacity=3)  # a slot frees
    taken = await assigned_case(service, customer)
    assert taken.id == case.id and taken.assignee_id == lucia.me["id"]
    assert await overflow_of(service, case.id) == ("overflow", "assistant")
    assert (await lucia.post("/presence", {"presence": "offline"})).status_code == 200
    await lucia.close()


async def test_with_nobody_online_a_web_visitor_is_offered_the_ways_out_and_chooses_to_wait(
        service: Service) -> None:
    visitor = Visitor(service.base_url)
    await visitor.connect()
    replies = await visitor.say("quiero hablar con una persona")
    offer = next(reply for reply in replies if any(str(button.get("payload", "")).startswith("/overflow")
                                                   for button in reply.get("quick_replies") or []))
    payloads = [button["payload"] for button in offer["quick_replies"]]
    assert payloads == ['/overflow{"choice":"wait"}', '/overflow{"choice":"assistant"}']  # anonymous: no number
    await visitor.client.emit("user_uttered", {"message": payloads[0], "session_id": visitor.session_id,
                                               "message_id": uuid.uuid4().hex})  # the button: the service answers
    told = await visitor.next_event("bot_uttered")
    assert "fila" in told["text"], told

    async def waiting() -> tuple[str | None, str | None] | None:
        async def query(session: Any) -> str | None:
            return await session.scalar(select(Handoff.case_id).join(Case, Case.id == Handoff.case_id)
                                        .where(Handoff.overflow_choice == "wait", Case.channel == "webchat"))
        case_id = await read(service, query)
        return await overflow_of(service, case_id) if case_id else None
    assert await until(waiting, "the visitor's choice recorded") == ("overflow", "wait")
    await visitor.close()


async def test_a_brazilian_on_whatsapp_is_answered_handed_off_and_asked_for_csat_in_portuguese(
        service: Service, graph: GraphStandIn) -> None:
    """Issue 19's end to end: the trained assistant tells Portuguese from the first message and answers in it; the
    handoff's notice and the CSAT question after the agent resolves the case are Portuguese too."""
    customer = "5511912345678"
    bia = await online(service, f"bia-{uuid.uuid4().hex[:6]}@example.com", capacity=3)
    writes(service, customer, "oi! quero falar com um atendente")
    case = await assigned_case(service, customer)
    assert case.language == "pt" and case.assignee_id == bia.me["id"]
    graph.wait_for(lambda: any("já está com o seu atendimento" in text for text in graph.texts_to(customer)),
                   what="the Portuguese handoff notice")
    assert any(text.startswith("Vou te passar para uma pessoa da equipe de Atendimento ao cliente")
               for text in graph.texts_to(customer)), graph.texts_to(customer)
    assert (await bia.post(f"/cases/{case.id}/resolve", {"disposition": "resolved"})).status_code == 200
    graph.wait_for(lambda: any([b["title"] for b in buttons] == ["Bom", "Regular", "Ruim"]
                               for buttons in buttons_to(graph, customer)), what="the CSAT buttons in Portuguese")
    assert "Seu atendimento foi concluído. Como você avalia o atendimento que recebeu?" in graph.texts_to(customer)
    assert (await bia.post("/presence", {"presence": "offline"})).status_code == 200
    await bia.close()
