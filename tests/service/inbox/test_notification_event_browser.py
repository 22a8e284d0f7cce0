"""Chromium: agents read a notification on the timeline as a sentence in their language (which template, or free
text, at whose request), not the server's English note.

Before: the event showed the service's own text, "Notification order_shipped sent for shop", in every language.
"""
from __future__ import annotations

import random
import uuid

import pytest
from playwright.sync_api import expect

from handoff.core.timeline import append_event
from handoff.store.models import Case
from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.inbox.test_merge_browser import in_database
from tests.service.support.merging import Sessions, two_customers

pytestmark = [pytest.mark.browser]


async def notified(sessions: Sessions, case_id: str) -> None:
    """Two notifications on the case, as core.notifications notes them: a template, then free text."""
    async with sessions() as session, session.begin():
        case = await session.get_one(Case, case_id)
        for template, how in (("order_shipped", "template"), (None, "text")):
            await append_event(session, case, channel="whatsapp", direction="internal", actor="system",
                               kind="notification", text=f"Notification {template or '(free text)'} sent for Shop",
                               payload={"notification_id": uuid.uuid4().hex, "template": template, "sent_as": how,
                                        "integration_id": "i1", "integration": "Shop"})


def test_the_notification_reads_as_a_sentence_in_the_agents_language(chromium, inbox_service) -> None:
    tag = str(random.randint(1000, 9999))
    ids = in_database(inbox_service.database_url, lambda sessions: two_customers(sessions, tag))
    in_database(inbox_service.database_url, lambda sessions: notified(sessions, ids["web_open"]))
    email = f"sup-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(inbox_service.database_url, email, role="supervisor", teams="care")
    dialogs: list[str] = []
    page = new_page(chromium, dialogs)
    agent_logs_in(page, inbox_service.base_url, email)
    page.locator(f"#queue .case-item[data-case-id='{ids['web_open']}']").click()
    events = page.locator("#timeline .event.kind-notification .text")
    expect(events).to_have_count(2)
    expect(events.nth(0)).to_have_text("Notification order_shipped sent at the request of Shop")
    expect(events.nth(1)).to_have_text("Free-text notification sent at the request of Shop")
    assert dialogs == []
