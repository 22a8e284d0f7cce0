"""Chromium: an agent finds a customer by a phone written "55 1234 5678" and a conversation by a word the customer
wrote, opens it from the results, and lists the cases of a team; another team's conversation is never shown."""
from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from handoff.core.cases import open_case
from handoff.core.customers import resolve_contact
from handoff.core.timeline import append_event
from handoff.store.db import create_engine, session_factory
from tests.service.inbox.support import create_agent, new_page, signs_in
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service

pytestmark = [pytest.mark.browser]
# new_page's browser speaks English (en-US): the inbox answers from its English catalogue
ENGLISH = json.loads((Path(__file__).resolve().parents[3] / "handoff/inbox/static/i18n/en.json").read_text("utf-8"))


async def _seed(database_url: str) -> dict[str, str]:
    """María on WhatsApp (+52 55 1234 5678) in care's queue; Luis on the web chat in fraud's, same words."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        maria = (await resolve_contact(session, "whatsapp", "+525512345678", verified=True, verified_by="whatsapp",
                                       display_name="María José Pérez")).customer
        care = await open_case(session, maria, "whatsapp", follow_up_window_hours=72)
        care.team, care.status = "care", "queued"
        await append_event(session, care, channel="whatsapp", direction="in", actor="customer", kind="message",
                           text="Necesito el <b>reembolso</b> de mi tarjeta")
        luis = (await resolve_contact(session, "webchat", "visitor-luis", display_name="Luis Núñez")).customer
        fraud = await open_case(session, luis, "webchat", follow_up_window_hours=72)
        fraud.team, fraud.status = "fraud", "queued"
        await append_event(session, fraud, channel="webchat", direction="in", actor="customer", kind="message",
                           text="Reembolso de una tarjeta clonada")
    await engine.dispose()
    return {"care": care.id, "fraud": fraud.id}


@pytest.fixture(scope="module")
def search_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, dict[str, str]]]:
    """A service of this module's own (no assistant behind it), with the story in its database."""
    service = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_TIMEOUT_SECONDS": "2",
                             "BOT_RETRIES": "0", "SECRET_KEY": "search-tests-secret-key-0123456789",
                             "INBOX_LOGIN_ATTEMPTS": "1000"}, Path(tmp_path_factory.mktemp("search")))
    with ThreadPoolExecutor(max_workers=1) as thread:
        cases = thread.submit(asyncio.run, _seed(service.database_url)).result()
    create_agent(service.database_url, "carla@example.com", teams="care", name="Carla")
    yield service, cases
    service.stop()


def test_an_agent_finds_a_customer_by_phone_and_a_conversation_by_a_word(chromium, search_service) -> None:
    service, cases = search_service
    dialogs: list[str] = []
    page = new_page(chromium, dialogs)
    signs_in(page, service.base_url, "carla@example.com")

    page.fill("#search-q", "55 1234 5678")
    page.click("#search-submit")
    customer = page.locator("#search-results .search-hit", has_text="María José Pérez")
    expect(customer).to_be_visible()
    expect(customer).to_contain_text("+525512345678")
    customer.locator(f".case-link[data-case-id='{cases['care']}']").click()
    expect(page.locator("#case-title")).to_have_text("María José Pérez")

    page.fill("#search-q", "REEMBOLSÓ tarjeta")
    page.press("#search-q", "Enter")
    hits = page.locator("#search-results .search-hit")
    expect(hits).to_have_count(1)  # Luis's words are fraud's: not hers to read
    expect(hits.locator(".hit-text")).to_have_text("Necesito el <b>reembolso</b> de mi tarjeta")  # as text
    hits.locator(f".case-link[data-case-id='{cases['care']}']").click()
    expect(page.locator("#timeline")).to_contain_text("Necesito el <b>reembolso</b> de mi tarjeta")

    page.fill("#search-q", "zapatos")
    page.click("#search-submit")
    expect(page.locator("#search-results")).to_have_text(ENGLISH["search.nothing"])

    page.click("#case-list-open")
    rows = page.locator("#case-list-rows tr")
    expect(rows).to_have_count(1)  # the fraud case is not listed to her
    page.select_option("#filter-team", "care")
    page.click("#filter-apply")
    expect(page.locator("#case-list-total")).to_have_text("1–1 of 1")
    page.select_option("#filter-channel", "webchat")
    page.click("#filter-apply")
    expect(page.locator("#case-list-total")).to_have_text(ENGLISH["caseList.none"])
    expect(rows).to_have_count(0)
    expect(page.locator("#filter-status option[value='queued']")).to_have_text(ENGLISH["status.queued"])
    page.select_option("#filter-channel", "")
    page.click("#filter-apply")
    rows.first.locator(".case-link").click()
    expect(page.locator("#case-browser")).to_be_hidden()
    expect(page.locator("#case-title")).to_have_text("María José Pérez")
    assert page.locator("#search-results b, #timeline b").count() == 0 and dialogs == []


CALLBACKS = re.compile(r"/inbox/api/callbacks\?")


def test_a_search_sent_while_the_inbox_still_loads_is_answered(chromium, search_service) -> None:
    """The search box works from the moment the inbox shows: its handler was mounted after the lists loaded, so a
    search sent before then submitted the bare form and reloaded the page (seen once in CI, on a busy machine)."""
    service, _cases = search_service
    held: list[Any] = []
    page = new_page(chromium, [])
    page.route(CALLBACKS, lambda route: held.append(route))  # the lists are still loading until these go on
    signs_in(page, service.base_url, "carla@example.com")
    for _ in range(200):  # Playwright calls the route handler while it is asked something
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the inbox asked for no callbacks: the test no longer holds its loading"

    page.fill("#search-q", "55 1234 5678")
    page.click("#search-submit")
    expect(page.locator("#search-results .search-hit", has_text="María José Pérez")).to_be_visible()
    for route in held:
        route.continue_()
    page.unroute(CALLBACKS)
