"""Chromium: an agent resolves a web chat, the customer writes again, and the agent's inbox shows the returning
customer card (previous case, its disposition, its agent) and the routing line on the timeline, as text."""
from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import TimelineEvent
from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.support.polling import until_sync

pytestmark = [pytest.mark.browser]
WIDGET = "handoff-webchat"


def customer_says(page, text: str) -> None:
    box = page.locator(f"{WIDGET} textarea")
    box.fill(text)
    box.press("Enter")


def case_that_said(database_url: str, text: str) -> str | None:
    """The case a customer message with `text` is on (the shared inbox service holds other tests' cases too)."""
    async def query() -> str | None:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(select(TimelineEvent.case_id).where(
                    TimelineEvent.actor == "customer", TimelineEvent.text == text))
        finally:
            await engine.dispose()
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, query()).result()


def test_a_returning_customer_is_shown_with_the_previous_case_and_why_it_came_back(chromium, inbox_service) -> None:
    tag = uuid.uuid4().hex[:6]
    email = f"rita-{tag}@example.com"
    # room for the care cases other tests left queued, which she is given as she comes online
    create_agent(inbox_service.database_url, email, teams="care", name=f"Rita {tag}", capacity=50)
    dialogs: list[str] = []
    inbox = new_page(chromium, dialogs)
    agent_logs_in(inbox, inbox_service.base_url, email)
    widget = new_page(chromium, dialogs)
    widget.goto(f"{inbox_service.base_url}/")
    widget.locator(f"{WIDGET} .launcher").click()

    customer_says(widget, f"<b>necesito ayuda</b> {tag}")  # the assistant is down: straight to people
    first_id = until_sync(lambda: case_that_said(inbox_service.database_url, f"<b>necesito ayuda</b> {tag}"),
                          "the customer's first case")
    first = inbox.locator(f"#mine .case-item[data-case-id='{first_id}']")
    expect(first).to_be_visible(timeout=60_000)
    first.click()
    expect(inbox.locator("#returning")).to_be_hidden()
    inbox.select_option("#disposition", "refund_issued")
    inbox.click("#resolve-btn")
    expect(inbox.locator(f"#mine .case-item[data-case-id='{first_id}']")).to_have_count(0)

    customer_says(widget, f"otra vez yo {tag}")
    again_id = until_sync(lambda: case_that_said(inbox_service.database_url, f"otra vez yo {tag}"),
                          "the customer's new case")
    assert again_id != first_id
    again = inbox.locator(f"#mine .case-item[data-case-id='{again_id}']", has_text="returning")
    expect(again).to_be_visible(timeout=60_000)
    again.click()
    card = inbox.locator("#returning")
    expect(card).to_be_visible()
    expect(card.locator(".previous-case-id")).to_have_text(first_id)
    expect(card.locator(".previous-outcome")).to_have_text("refund_issued")
    expect(card.locator(".previous-agent")).to_have_text(f"Rita {tag}")
    routing = inbox.locator("#timeline .event.kind-routing .text")
    expect(routing.last).to_have_text(f"Routed: follow-up agent (Rita {tag})")
    assert inbox.locator("#timeline b").count() == 0 and dialogs == []
