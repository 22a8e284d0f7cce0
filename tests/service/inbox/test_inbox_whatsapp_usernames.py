"""Chromium end to end with the real assistant: a WhatsApp customer who hides their number behind a username."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.whatsapp_webhooks import BSUID, post_signed, username_webhook

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
XSS = "<img src=x onerror=alert(1)>"


def replies_to_bsuid(graph: GraphStandIn, ending: str) -> list[dict]:
    return [body for body in graph.sends() if body.get("type") == "text" and body["text"]["body"].endswith(ending)]


def test_a_customer_who_hides_their_number_is_shown_by_username_and_answered_with_recipient(
        chromium, whatsapp_service, graph) -> None:
    """Meta's username-only shape: no number, a business-scoped user id; the inbox shows the username as text."""
    email = f"wa-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(whatsapp_service.database_url, email, teams="returns", name="Eva Returns")
    dialogs: list[str] = []
    inbox = new_page(chromium, dialogs)
    agent_logs_in(inbox, whatsapp_service.base_url, email)

    response = post_signed(whatsapp_service.base_url, username_webhook("quiero devolver un producto",
                                                                       wamid=f"wamid.{uuid.uuid4().hex}"))
    assert response.status_code == 200, response.text
    case_item = inbox.locator("#mine .case-item").first
    expect(case_item).to_be_visible(timeout=60_000)
    expect(case_item.locator(".who")).to_have_text("Sofia Rojas (@sofi.rojas)")
    case_item.click()
    expect(inbox.locator("#case-title")).to_have_text("Sofia Rojas (@sofi.rojas)")
    expect(inbox.locator("#customer-body")).to_contain_text(f"WhatsApp user id: {BSUID} ✓")
    expect(inbox.locator("#reply-channel")).to_have_value("whatsapp")
    graph.wait_for(lambda: any(body.get("recipient") == BSUID for body in graph.sends()),
                   what="the assistant's answers to the business-scoped id")

    inbox.locator("#reply-text").fill("Hola Sofia, soy Eva.")
    inbox.locator("#reply-text").press("Enter")
    graph.wait_for(lambda: replies_to_bsuid(graph, "Hola Sofia, soy Eva."), what="the agent's reply")
    [reply] = replies_to_bsuid(graph, "Hola Sofia, soy Eva.")
    assert reply["recipient"] == BSUID and "to" not in reply
    assert all("to" not in body for body in graph.sends())  # nobody here has a number to write to

    post_signed(whatsapp_service.base_url,
                username_webhook("gracias", wamid=f"wamid.{uuid.uuid4().hex}", username=XSS))
    expect(inbox.locator("#timeline .event.actor-customer .text", has_text="gracias")).to_be_visible()
    inbox.reload()
    expect(inbox.locator("#mine .case-item .who").first).to_have_text(f"Sofia Rojas ({XSS})")  # the new username
    assert inbox.locator("img").count() == 0 and dialogs == []
