"""Chromium end to end on WhatsApp: signed webhooks in, the Graph API stand-in out, the real assistant."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.inbox.test_inbox_browser import handoffs_of
from tests.service.support.whatsapp_webhooks import WA_ID, post_signed, text_webhook

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
XSS = "<img src=x onerror=alert(1)>"


def customer_writes(service, text: str) -> None:
    response = post_signed(service.base_url, text_webhook(text, wamid=f"wamid.{uuid.uuid4().hex}"))
    assert response.status_code == 200, response.text


def test_whatsapp_handoff_reaches_the_inbox_and_the_agent_answers_through_the_graph_api(
        chromium, whatsapp_service, graph) -> None:
    email = f"wa-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(whatsapp_service.database_url, email, teams="returns", name="Luis Returns")
    dialogs: list[str] = []
    inbox = new_page(chromium, dialogs)
    agent_logs_in(inbox, whatsapp_service.base_url, email)

    customer_writes(whatsapp_service, "quiero devolver un producto")
    case_item = inbox.locator("#mine .case-item").first
    expect(case_item).to_be_visible(timeout=60_000)
    expect(case_item).to_contain_text("whatsapp")
    case_item.click()
    timeline = inbox.locator("#timeline")
    expect(timeline.locator(".event.actor-customer .text").first).to_have_text("quiero devolver un producto")
    expect(inbox.locator("#summary-body")).to_contain_text("return_request")
    expect(inbox.locator("#reply-channel")).to_have_value("whatsapp")
    case_id = case_item.get_attribute("data-case-id")
    graph.wait_for(lambda: any("fila" in t or "caso" in t for t in graph.texts_to(WA_ID)),
                   what="the customer told a person will answer")

    inbox.locator("#reply-text").fill("Hola, soy Luis. Te ayudo con la devolucion.")
    inbox.locator("#reply-text").press("Enter")
    graph.wait_for(lambda: any(t.endswith("Hola, soy Luis. Te ayudo con la devolucion.")
                               for t in graph.texts_to(WA_ID)), what="the agent's reply")
    assert any("Luis Returns" in t for t in graph.texts_to(WA_ID))  # "Luis Returns se ha unido…"

    customer_writes(whatsapp_service, XSS)
    expect(timeline.locator(".event.actor-customer .text", has_text="onerror")).to_have_text(XSS)
    assert timeline.locator("img").count() == 0 and dialogs == []

    inbox.click("#return-btn")
    graph.wait_for(lambda: any("asistente virtual" in t for t in graph.texts_to(WA_ID)),
                   what="the return-to-assistant notice")
    before = len(graph.texts_to(WA_ID))
    customer_writes(whatsapp_service, "a que hora abren?")
    graph.wait_for(lambda: any(re.search(r"\d{1,2}:\d{2}", t) for t in graph.texts_to(WA_ID)[before:]),
                   what="the assistant's opening hours")
    assert handoffs_of(whatsapp_service.database_url, case_id) == [
        ("to_human", "returned_to_bot", "complex_intent"), ("to_bot", "returned_to_bot", "returned_by_agent")]
