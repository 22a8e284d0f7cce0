"""Chromium: an agent resolves a web chat, the customer writes again, and the agent's inbox shows the returning
customer card (previous case, its disposition, its agent) and the routing line on the timeline, as text."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.service.inbox.support import agent_logs_in, create_agent, new_page

pytestmark = [pytest.mark.browser]
WIDGET = "handoff-webchat"


def customer_says(page, text: str) -> None:
    box = page.locator(f"{WIDGET} textarea")
    box.fill(text)
    box.press("Enter")


def test_a_returning_customer_is_shown_with_the_previous_case_and_why_it_came_back(chromium, inbox_service) -> None:
    tag = uuid.uuid4().hex[:6]
    email = f"rita-{tag}@example.com"
    create_agent(inbox_service.database_url, email, teams="care", name=f"Rita {tag}")
    dialogs: list[str] = []
    inbox = new_page(chromium, dialogs)
    agent_logs_in(inbox, inbox_service.base_url, email)
    widget = new_page(chromium, dialogs)
    widget.goto(f"{inbox_service.base_url}/")
    widget.locator(f"{WIDGET} .launcher").click()

    customer_says(widget, f"<b>necesito ayuda</b> {tag}")  # the assistant is down: straight to people
    first = inbox.locator("#mine .case-item", has_text="webchat").first
    expect(first).to_be_visible(timeout=60_000)
    first.click()
    expect(inbox.locator("#returning")).to_be_hidden()
    first_id = first.get_attribute("data-case-id")
    inbox.select_option("#disposition", "refund_issued")
    inbox.click("#resolve-btn")
    expect(inbox.locator(f"#mine .case-item[data-case-id='{first_id}']")).to_have_count(0)

    customer_says(widget, f"otra vez yo {tag}")
    again = inbox.locator("#mine .case-item", has_text="returning").first
    expect(again).to_be_visible(timeout=60_000)
    assert again.get_attribute("data-case-id") != first_id
    again.click()
    card = inbox.locator("#returning")
    expect(card).to_be_visible()
    expect(card.locator(".previous-case-id")).to_have_text(first_id)
    expect(card.locator(".previous-outcome")).to_have_text("refund_issued")
    expect(card.locator(".previous-agent")).to_have_text(f"Rita {tag}")
    routing = inbox.locator("#timeline .event.kind-routing .text")
    expect(routing.last).to_have_text(f"Routed: follow-up agent (Rita {tag})")
    assert inbox.locator("#timeline b").count() == 0 and dialogs == []
