"""Chromium: a supervisor records a promise in the customer panel (shown as text), marks it kept, and sees an
overdue one on the supervisor panel; no markup in a promise ever runs."""
from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Commitment, utcnow
from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.support.merging import Sessions, two_customers

pytestmark = [pytest.mark.browser]
XSS = "<img src=x onerror=alert(1)> reembolso"
T = TypeVar("T")


def in_database(database_url: str, work: Callable[[Sessions], Awaitable[T]]) -> T:
    """Runs `work` against the service's database in a thread of its own (Playwright owns this one's loop)."""
    async def run() -> T:
        engine = create_engine(database_url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_a_promise_from_the_panel_is_text_kept_and_an_overdue_one_reaches_the_supervisor(chromium,
                                                                                        inbox_service) -> None:
    tag = str(random.randint(1000, 9999))
    seeded = in_database(inbox_service.database_url, lambda sessions: two_customers(sessions, tag))
    email = f"sup-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(inbox_service.database_url, email, role="supervisor", teams="care")
    dialogs: list[str] = []
    page = new_page(chromium, dialogs)
    agent_logs_in(page, inbox_service.base_url, email)
    page.locator(f"#queue .case-item[data-case-id='{seeded['web_open']}']").click()
    panel = page.locator("#commitments")
    expect(panel.locator("#commitments-body")).to_have_text("No open commitments")
    page.fill("#commitment-text", XSS)
    page.fill("#commitment-due", "2099-12-05T12:00")
    page.click("#commitment-add")
    item = panel.locator("#commitment-list li")
    expect(item).to_have_count(1)
    expect(item.locator(".commitment-text")).to_have_text(XSS)  # the markup as typed, as text
    expect(page.locator("#timeline .event.kind-commitment")).to_have_count(1)
    item.locator(".kept-btn").click()
    expect(panel.locator("#commitments-body")).to_have_text("No open commitments")

    page.fill("#commitment-text", f"Llamar a las 5 {XSS}")
    page.fill("#commitment-due", "2099-12-06T17:00")
    page.click("#commitment-add")
    expect(panel.locator("#commitment-list li")).to_have_count(1)

    async def due_now(sessions: Sessions) -> None:
        async with sessions() as session, session.begin():
            found = (await session.scalars(select(Commitment.id).where(Commitment.case_id == seeded["web_open"],
                                                                       Commitment.status == "open"))).one()
            await session.execute(update(Commitment).where(Commitment.id == found)
                                  .values(due_at=utcnow() - timedelta(hours=2)))

    in_database(inbox_service.database_url, due_now)
    page.reload()
    overdue = page.locator("#overdue-body tr", has_text="Llamar a las 5")
    expect(overdue).to_have_count(1)
    expect(overdue.locator("td").nth(1)).to_have_text(f"Llamar a las 5 {XSS}")
    expect(page.locator("#overdue-count")).not_to_have_text("0")
    assert dialogs == []
