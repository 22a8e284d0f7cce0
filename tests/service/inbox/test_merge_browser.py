"""Chromium: a suggestion in the customer panel (as text), Merge, then Undo merge on the timeline restores all."""
from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from playwright.sync_api import expect

from handoff.core.customers import resolve_customer
from handoff.core.merge_evidence import weigh_told
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, Customer
from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.support.merging import Sessions, chains_ok, snapshot, two_customers

pytestmark = [pytest.mark.browser]
XSS = "<img src=x onerror=alert(1)>"
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


def test_an_agent_merges_from_a_suggestion_and_undoes_it(chromium, inbox_service) -> None:
    tag = str(random.randint(1000, 9999))

    async def seed(sessions: Sessions) -> dict[str, Any]:
        ids = await two_customers(sessions, tag)
        async with sessions() as session, session.begin():
            visitor = await session.get_one(Customer, ids["visitor"])
            visitor.display_name = XSS
            await weigh_told(session, visitor, {"phone": ids["phone"]})  # Ana's number, told on the web
            stranger = await resolve_customer(session, "webchat", f"stranger-{tag}", display_name=XSS)
            await weigh_told(session, stranger, {"order_number": "x"})
        return {**ids, "before": await snapshot(sessions)}

    seeded = in_database(inbox_service.database_url, seed)
    email = f"sup-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(inbox_service.database_url, email, role="supervisor", teams="care")
    dialogs: list[str] = []
    page = new_page(chromium, dialogs)
    agent_logs_in(page, inbox_service.base_url, email)
    page.locator(f"#queue .case-item[data-case-id='{seeded['web_open']}']").click()
    panel = page.locator("#customer-body")
    suggestion = panel.locator(".suggestions li")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text(f"Ana · phone told to the assistant: {seeded['phone']}")
    expect(page.locator("#case-title")).to_have_text(XSS)  # the visitor's name, as text
    suggestion.locator(".merge-btn").click()
    expect(page.locator("#case-meta")).to_contain_text("merged")  # Ana's case, held by Maria, absorbed this one
    expect(panel.locator(".suggestions li")).to_have_count(0)
    undo = page.locator("#timeline .undo-merge-btn").first
    expect(undo).to_be_visible()

    async def merged_state(sessions: Sessions) -> tuple[str, str | None]:
        async with sessions() as session:
            case = await session.get_one(Case, seeded["web_open"])
            return case.status, case.merged_into_case_id

    assert in_database(inbox_service.database_url, merged_state) == ("merged", seeded["ana_open"])
    undo.click()
    expect(page.locator("#case-meta")).to_contain_text("queued")
    expect(page.locator("#timeline .event.kind-merge", has_text="merge undone")).to_have_count(1)

    async def after(sessions: Sessions) -> dict[str, Any]:
        await chains_ok(sessions, (seeded["ana"], seeded["visitor"]))  # the report tests' seeded cases have no chain
        return await snapshot(sessions)

    now = in_database(inbox_service.database_url, after)
    for table, rows in seeded["before"].items():
        changed = [{key: (value, new[key]) for key, value in old.items() if new[key] != value}
                   for old, new in zip(rows, now[table], strict=True) if old != new]
        assert not changed, (table, changed)
    assert now == seeded["before"]
    assert dialogs == []
