"""Chromium at /inbox/reports: a supervisor sees the provider items refused by their schema (where in the body,
why, the raw JSON as text) and the webhooks whose processing keeps failing."""
from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from handoff.core.webhook_store import keep_refused, store_webhook
from handoff.store.db import create_engine, session_factory
from handoff.store.models import InboundWebhook
from tests.service.inbox.test_reports_browser import logged_in_page

pytestmark = [pytest.mark.browser]
XSS = "<img src=x onerror=alert(1)>"


def stored_refusals(database_url: str, marker: str) -> None:
    """What the ingest leaves: a processed body with one refused message, and a body failing to process."""
    async def store() -> None:
        engine = create_engine(database_url)
        sessions = session_factory(engine)
        row_id = await store_webhook(sessions, "whatsapp", b"{}")
        failing = await store_webhook(sessions, "whatsapp", b"{}")
        async with sessions() as session, session.begin():
            await keep_refused(session, row_id, "whatsapp", [(
                "entry[0].changes[0].value.messages[1]",
                f"entry[0].changes[0].value.messages[1].timestamp: must be Unix seconds {marker}",
                f'{{"id": "wamid.{marker}", "text": {{"body": "{XSS}"}}}}')])
            failing_row = await session.get(InboundWebhook, failing)
            failing_row.attempts, failing_row.last_error = 5, f"OperationalError: {marker}"
        await engine.dispose()
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        pool.submit(asyncio.run, store()).result()


def test_a_supervisor_sees_refused_items_and_failing_webhooks_as_text(inbox_service, chromium) -> None:
    marker = uuid.uuid4().hex[:8]
    stored_refusals(inbox_service.database_url, marker)
    dialogs: list[str] = []
    boss = logged_in_page(chromium, inbox_service, "supervisor")
    boss.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    refused = boss.locator("[data-table=refused] tr", has_text=marker)
    expect(refused).to_contain_text("entry[0].changes[0].value.messages[1]")
    expect(refused).to_contain_text(XSS)  # the raw JSON as text, never markup
    expect(boss.locator("[data-table=failing] tr", has_text=marker)).to_contain_text("5")
    assert dialogs == [] and boss.locator("[data-table=refused] img").count() == 0
