"""Templates from the inbox through the whole app (SQLite and PostgreSQL): after WhatsApp's 24 hours an agent
lists the approved templates prefilled from the case and sends one; the Graph API stand-in receives exactly
Meta's template body, the timeline shows what the customer reads and its delivery; refusals send nothing."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from handoff.channels.whatsapp.signature import sign
from handoff.channels.whatsapp.window import WINDOW
from handoff.core.customers import resolve_customer
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditEntry, Case, Outbox, TimelineEvent
from tests.service.inbox.support import AgentClient, approved_spanish_first, create_agent
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.merging import Sessions, case_with_events
from tests.service.support.polling import until
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import served_with_assistant
from tests.service.support.whatsapp_webhooks import APP_SECRET, WA_ID, status_webhook, text_webhook

FOLLOW_UP = {"name": "case_follow_up", "language": "es_MX", "values": {"customer_name": "Sheena"}}


def moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def hands_off(message: str) -> list[dict[str, Any]]:
    """The assistant hands every message to people."""
    return [{"custom": {"handoff": {"reason": "explicit_request"}}}]


@dataclass
class Served:
    base_url: str
    database_url: str
    sessions: Sessions
    graph: GraphStandIn

    async def writes(self, text: str, hours_ago: float = 0) -> None:
        """The customer writes on WhatsApp (Meta's timestamp `hours_ago`), signed as Meta signs."""
        body = text_webhook(text, wamid=f"wamid.{uuid.uuid4().hex}", timestamp=str(int(time.time() - hours_ago * 3600)))
        await self.webhook(body)

    async def webhook(self, body: bytes) -> None:
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            answer = await http.post("/webhooks/whatsapp", content=body, headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)})
        assert answer.status_code == 200, answer.text

    async def agent(self, email: str, teams: str = "care") -> AgentClient:
        await asyncio.to_thread(create_agent, self.database_url, email, "agent", teams)
        client = AgentClient(self.base_url)
        assert (await client.login(email)).status_code == 200
        return client

    async def queued_case(self) -> str:
        """The customer's case once people have it (the assistant handed it off)."""
        async def found() -> str | None:
            async with self.sessions() as session:
                case_id = await session.scalar(select(Case.id).where(Case.status.in_(("queued", "assigned"))))
                unsent = await session.scalar(select(func.count()).select_from(Outbox)
                                              .where(Outbox.status.in_(("pending", "sending"))))
            return case_id if case_id and not unsent else None  # the customer's notice is at the stand-in
        return await until(found, "the case handed to people and the customer told")

    async def sent(self, count: int) -> list[dict[str, Any]]:
        """The Graph stand-in's message bodies once there are `count` of them."""
        async def enough() -> list[dict[str, Any]] | None:
            sends = self.graph.sends()
            return sends if len(sends) >= count else None
        return await until(enough, f"{count} messages sent to Meta")

    async def agent_events(self) -> int:
        async with self.sessions() as session:
            return await session.scalar(select(func.count()).select_from(TimelineEvent)
                                        .where(TimelineEvent.actor.like("agent:%"))) or 0


@pytest.fixture
async def served(tmp_path: Any, database_url: str, graph: GraphStandIn) -> AsyncIterator[Served]:
    async with served_with_assistant(tmp_path, RasaStandIn(reply=hands_off), database_url=database_url,
                                     whatsapp_app_secret=APP_SECRET, whatsapp_verify_token="verify",
                                     whatsapp_api_base=graph.base_url, whatsapp_access_token=TOKEN,
                                     whatsapp_phone_number_id=PHONE_NUMBER_ID, inbox_login_attempts=1000) as running:
        engine = create_engine(running.database_url)
        yield Served(running.base_url, running.database_url, session_factory(engine), graph)
        await engine.dispose()


async def test_after_the_window_an_agent_sends_a_prefilled_template_and_meta_receives_it(served: Served) -> None:
    await served.writes("hola, sigo esperando mi pedido", hours_ago=25)
    case_id = await served.queued_case()
    ana = await served.agent("ana-templates@example.com")
    listed = await ana.get(f"/cases/{case_id}/templates")
    assert listed.status_code == 200, listed.text
    offer = listed.json()
    assert (offer["whatsapp"], offer["window_open"], offer["refusal"], offer["language"]) == (True, False, None, "es")
    assert moment(offer["closes_at"]) - moment(offer["last_inbound_at"]) == WINDOW
    assert moment(offer["closes_at"]) < datetime.now(timezone.utc)
    assert [(t["name"], t["language"]) for t in offer["templates"]] == approved_spanish_first()
    first = offer["templates"][0]
    assert first["parameters"] == [{"name": "customer_name", "value": "Sheena Nelson"}]
    assert first["body"].startswith("Hola {{1}}, tenemos novedades")
    refused = await ana.post(f"/cases/{case_id}/reply", {"text": "Hola, ¿sigues ahí?"})
    assert refused.status_code == 409 and "Free text was not sent" in refused.json()["detail"]
    sent_before = len(served.graph.sends())

    sent = await ana.post(f"/cases/{case_id}/template", FOLLOW_UP)
    assert sent.status_code == 200, sent.text
    [event_id] = sent.json()["event_ids"]
    await served.sent(sent_before + 1)
    assert served.graph.sends()[sent_before:] == [{
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "template",
        "template": {"name": "case_follow_up", "language": {"policy": "deterministic", "code": "es_MX"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": "Sheena"}]}]}}]

    async def delivery(status: str) -> dict[str, Any] | None:
        view = (await ana.get(f"/cases/{case_id}")).json()
        [event] = [e for e in view["events"] if e["id"] == event_id]
        return event if event["delivery_status"] == status else None
    shown = await until(lambda: delivery("accepted"), "the template accepted by Meta")
    assert shown["text"] == ("Hola Sheena, tenemos novedades sobre tu caso. Responde a este mensaje para continuar "
                             "la conversación.")
    assert shown["actor"] == f"agent:{ana.me['id']}" and shown["payload"]["template"] == "case_follow_up"
    async with served.sessions() as session:
        wamid = await session.scalar(select(Outbox.provider_message_id).where(Outbox.event_id == event_id))
        case = await session.get(Case, case_id)
        audited = await session.scalar(select(AuditEntry).where(AuditEntry.action == "template"))
    assert (case.status, case.assignee_id) == ("assigned", ana.me["id"])  # held like a reply
    assert audited.detail["template"] == "case_follow_up" and audited.detail["event_id"] == event_id
    await served.webhook(status_webhook(wamid, "delivered"))
    await until(lambda: delivery("delivered"), "the delivery status on the timeline")
    await ana.close()


async def test_refused_templates_send_nothing(served: Served) -> None:
    await served.writes("hola", hours_ago=30)
    case_id = await served.queued_case()
    ana = await served.agent("ana-refusals@example.com")
    sends, events = len(served.graph.sends()), await served.agent_events()
    path = f"/cases/{case_id}/template"
    cases = [({**FOLLOW_UP, "name": "promo_black_friday"}, 400, "no approved template 'promo_black_friday'"),
             ({**FOLLOW_UP, "language": "fr_FR"}, 400, "no approved template 'case_follow_up' in 'fr_FR'"),
             ({**FOLLOW_UP, "values": {}}, 400, "a value is required for customer_name"),
             ({**FOLLOW_UP, "values": {"customer_name": "Ana", "order": "1"}}, 400, "has no parameter order"),
             ({**FOLLOW_UP, "values": {"customer_name": "  "}}, 400, "customer_name cannot be empty"),
             ({**FOLLOW_UP, "values": {"customer_name": "Ana\nPérez"}}, 400, "cannot hold a new line"),
             ({**FOLLOW_UP, "values": {"customer_name": "Ana\tPérez"}}, 400, "cannot hold a new line"),
             ({**FOLLOW_UP, "values": {"customer_name": "Ana     Pérez"}}, 400, "more than 4 spaces in a row")]
    for body, status, reason in cases:
        answer = await ana.post(path, body)
        assert answer.status_code == status and reason in answer.json()["detail"], (body, answer.text)
    assert (await ana.post(path, {**FOLLOW_UP, "values": {"customer_name": "a" * 1025}})).status_code == 422
    assert (await ana.post(path, FOLLOW_UP, csrf=False)).status_code == 403
    returns = await served.agent("rita-returns@example.com", teams="returns")
    assert (await returns.post(path, FOLLOW_UP)).status_code == 403  # not her team's case
    assert (await returns.get(f"/cases/{case_id}/templates")).status_code == 403
    assert (len(served.graph.sends()), await served.agent_events()) == (sends, events)

    assert (await ana.post(f"/cases/{case_id}/accept")).status_code == 200
    bruno = await served.agent("bruno-care@example.com")
    accepted = await served.agent_events()
    taken = await bruno.post(path, FOLLOW_UP)
    assert taken.status_code == 409 and "assigned to someone else" in taken.json()["detail"]
    assert await served.agent_events() == accepted
    for client in (ana, returns, bruno):
        await client.close()


async def test_inside_the_window_a_template_may_go_too_with_four_spaces(served: Served) -> None:
    await served.writes("hola, ¿me ayudan?")
    case_id = await served.queued_case()
    ana = await served.agent("ana-open@example.com")
    assert (await ana.get(f"/cases/{case_id}/templates")).json()["window_open"] is True
    sent_before = len(served.graph.sends())
    sent = await ana.post(f"/cases/{case_id}/template", {**FOLLOW_UP, "values": {"customer_name": "Ana    Pérez"}})
    assert sent.status_code == 200, sent.text
    [template] = (await served.sent(sent_before + 1))[sent_before:]
    assert template["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Ana    Pérez"}]
    await ana.close()


async def test_a_customer_who_cannot_be_reached_on_whatsapp_gets_no_template(served: Served) -> None:
    async with served.sessions() as session, session.begin():
        visitor = await resolve_customer(session, "webchat", "visitor-templates", display_name="Vera")
        case = await case_with_events(session, visitor, "webchat", "queued", team="care", texts=("hola",))
    ana = await served.agent("ana-web@example.com")
    sends = len(served.graph.sends())
    listed = (await ana.get(f"/cases/{case.id}/templates")).json()
    assert listed["whatsapp"] is False and "cannot be reached on WhatsApp" in listed["refusal"]
    assert listed["templates"][0]["parameters"] == [{"name": "customer_name", "value": "Vera"}]
    refused = await ana.post(f"/cases/{case.id}/template", FOLLOW_UP)
    assert refused.status_code == 409 and refused.json()["detail"] == "the customer has no whatsapp address"
    assert (len(served.graph.sends()), await served.agent_events()) == (sends, 0)
    await ana.close()


async def test_a_customer_who_opted_out_gets_no_template_until_the_opt_out_is_cleared(served: Served) -> None:
    await served.writes("hola", hours_ago=26)
    case_id = await served.queued_case()
    ana = await served.agent("ana-optout@example.com")
    assert (await ana.post(f"/cases/{case_id}/whatsapp-opt-out", {"opted_out": True})).status_code == 200
    sends, events = len(served.graph.sends()), await served.agent_events()
    listed = (await ana.get(f"/cases/{case_id}/templates")).json()
    assert (listed["whatsapp"], listed["window_open"]) == (True, False)
    assert listed["refusal"].startswith("the customer opted out of WhatsApp messages")
    refused = await ana.post(f"/cases/{case_id}/template", FOLLOW_UP)
    assert refused.status_code == 409 and refused.json()["detail"] == listed["refusal"]
    async with served.sessions() as session:
        assert (await session.get(Case, case_id)).assignee_id is None  # refused before holding it
    assert (len(served.graph.sends()), await served.agent_events()) == (sends, events)

    assert (await ana.post(f"/cases/{case_id}/whatsapp-opt-out", {"opted_out": False})).status_code == 200
    assert (await ana.get(f"/cases/{case_id}/templates")).json()["refusal"] is None
    assert (await ana.post(f"/cases/{case_id}/template", FOLLOW_UP)).status_code == 200
    [template] = (await served.sent(sends + 1))[sends:]
    assert template["type"] == "template" and template["template"]["name"] == "case_follow_up"
    await ana.close()
