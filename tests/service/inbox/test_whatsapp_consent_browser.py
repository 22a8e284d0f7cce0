"""Chromium: the customer panel says whether the customer opted out of WhatsApp; the agent marks and clears it."""
from __future__ import annotations

import random
import uuid

import pytest
from playwright.sync_api import expect

from handoff.store.models import Customer
from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.inbox.test_merge_browser import in_database
from tests.service.support.merging import Sessions, two_customers

pytestmark = [pytest.mark.browser]


def test_an_agent_marks_and_clears_the_whatsapp_opt_out(chromium, inbox_service) -> None:
    tag = str(random.randint(1000, 9999))
    ids = in_database(inbox_service.database_url, lambda sessions: two_customers(sessions, tag))
    email = f"sup-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(inbox_service.database_url, email, role="supervisor", teams="care")
    dialogs: list[str] = []
    page = new_page(chromium, dialogs)
    agent_logs_in(page, inbox_service.base_url, email)
    page.locator(f"#queue .case-item[data-case-id='{ids['web_open']}']").click()
    consent = page.locator("#whatsapp-consent")
    expect(consent).to_contain_text("may be contacted")

    async def opted_out(sessions: Sessions) -> bool:
        async with sessions() as session:
            return (await session.get_one(Customer, ids["visitor"])).whatsapp_opted_out_at is not None

    page.locator("#whatsapp-consent-btn").click()
    expect(consent).to_contain_text("opted out")
    expect(page.locator("#whatsapp-consent-btn")).to_have_text("Clear opt-out")
    expect(page.locator("#timeline .event.kind-consent")).to_have_count(1)
    assert in_database(inbox_service.database_url, opted_out) is True
    page.locator("#whatsapp-consent-btn").click()
    expect(consent).to_contain_text("may be contacted")
    expect(page.locator("#timeline .event.kind-consent")).to_have_count(2)
    assert in_database(inbox_service.database_url, opted_out) is False
    assert dialogs == []
