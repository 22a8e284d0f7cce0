"""Chromium end to end with the real trained assistant: widget customer, inbox agent, and back to the bot."""
from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Handoff
from tests.service.inbox.support import agent_logs_in, create_agent, new_page

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
WIDGET = "handoff-webchat"
WIDGET_LOG = f"{WIDGET} [role=log]"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def service(service_factory):
    return service_factory(INBOX_LOGIN_ATTEMPTS="1000")


def customer_says(page, text: str) -> None:
    box = page.locator(f"{WIDGET} textarea")
    box.fill(text)
    box.press("Enter")


def handoffs_of(database_url: str, case_id: str) -> list[tuple[str, str | None, str]]:
    async def read() -> list[tuple[str, str | None, str]]:
        engine = create_engine(database_url)
        async with session_factory(engine)() as session:
            rows = list(await session.scalars(select(Handoff).where(Handoff.case_id == case_id).order_by(Handoff.id)))
        await engine.dispose()
        return [(row.direction, row.outcome, row.reason) for row in rows]
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        return pool.submit(asyncio.run, read()).result()


def test_widget_handoff_reaches_the_inbox_live_and_the_case_returns_to_the_assistant(chromium, service) -> None:
    email = f"ana-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(service.database_url, email, teams="returns", name="Ana Returns")
    agent_dialogs: list[str] = []
    customer_dialogs: list[str] = []
    inbox = new_page(chromium, agent_dialogs)
    agent_logs_in(inbox, service.base_url, email)

    widget = new_page(chromium, customer_dialogs)
    widget.goto(f"{service.base_url}/")
    widget.locator(f"{WIDGET} .launcher").click()
    customer_says(widget, "quiero devolver un producto")

    # The case arrives live (no reload) on the agent's list, with transcript and handoff summary.
    case_item = inbox.locator("#mine .case-item").first
    expect(case_item).to_be_visible(timeout=60_000)
    expect(case_item).to_contain_text("webchat")
    case_item.click()
    timeline = inbox.locator("#timeline")
    expect(timeline.locator(".event.actor-customer .text").first).to_have_text("quiero devolver un producto")
    expect(timeline.locator(".event.actor-bot").first).to_be_visible()
    expect(inbox.locator("#summary-body")).to_contain_text("return_request")
    expect(inbox.locator("#summary-body")).to_contain_text("complex_intent")
    case_id = case_item.get_attribute("data-case-id")

    inbox.locator("#case-title").click()
    inbox.keyboard.press("r")  # the reply shortcut
    expect(inbox.locator("#reply-text")).to_be_focused()
    inbox.keyboard.type("Hola, soy Ana. Te ayudo con la devolucion.")
    inbox.keyboard.press("Enter")
    expect(widget.locator(f"{WIDGET_LOG} .system", has_text="Ana Returns")).to_be_visible()
    expect(widget.locator(f"{WIDGET_LOG} .msg.agent .bubble").last).to_have_text(
        "Hola, soy Ana. Te ayudo con la devolucion.")

    # Customer text is shown as text in the inbox, never as markup.
    customer_says(widget, XSS)
    shown = timeline.locator(".event.actor-customer .text", has_text="onerror")
    expect(shown).to_have_text(XSS)
    assert timeline.locator("img").count() == 0 and agent_dialogs == []

    inbox.click("#return-btn")
    expect(widget.locator(WIDGET_LOG)).to_contain_text("asistente virtual")
    bot_bubbles = widget.locator(f"{WIDGET_LOG} .msg.bot .bubble")
    before = bot_bubbles.count()
    customer_says(widget, "a que hora abren?")
    expect(bot_bubbles).to_have_count(before + 1, timeout=60_000)
    assert re.search(r"\d{1,2}:\d{2}", bot_bubbles.last.inner_text()), bot_bubbles.last.inner_text()
    assert customer_dialogs == []
    assert handoffs_of(service.database_url, case_id) == [("to_human", "returned_to_bot", "complex_intent"),
                                                          ("to_bot", "returned_to_bot", "returned_by_agent")]
