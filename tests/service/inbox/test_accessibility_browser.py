"""Chromium with axe-core: the login, the inbox, the case view, the customer page and the dashboard have no
serious or critical violation; the page is usable by keyboard alone (skip link, buttons, focus) and fits 1280×720
and a 10-inch tablet both ways without scrolling sideways."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.service.inbox.support import create_agent, new_page, signs_in
from tests.service.support.axe import blocking, scrolls_sideways, wider_than_the_page
from tests.service.support.desk import customer_writes
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service

pytestmark = [pytest.mark.browser]
VIEWPORTS = [{"width": 1280, "height": 720}, {"width": 1280, "height": 800}, {"width": 800, "height": 1280}]


@pytest.fixture(scope="module")
def service(workdir: Path) -> Iterator[Service]:
    running = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_TIMEOUT_SECONDS": "2",
                             "BOT_RETRIES": "0", "SECRET_KEY": "a11y-browser-secret-0123456789",
                             "INBOX_LOGIN_ATTEMPTS": "1000"}, workdir)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def supervisor(service: Service) -> str:
    email = f"sup-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(service.database_url, email, role="supervisor", teams="care", name="Sofía Supervisora")
    for words in ("hola, quiero un reembolso", "mi pedido no llegó", "<b>hola</b> ¿hay alguien?"):
        customer_writes(service.base_url, words)
    return email


def test_no_serious_or_critical_violation_on_any_screen(chromium, service: Service, supervisor: str) -> None:
    dialogs: list[str] = []
    page = new_page(chromium, dialogs, bypass_csp=True, viewport={"width": 1280, "height": 720})
    page.goto(f"{service.base_url}/inbox")
    expect(page.locator("#login-form")).to_be_visible()
    assert blocking(page) == [], "login"

    signs_in(page, service.base_url, supervisor)
    expect(page.locator("#queue .case-item")).to_have_count(3)
    expect(page.locator("#queue .case-item .sla").first).to_be_visible()
    assert blocking(page) == [], "inbox"

    page.locator("#queue .case-item").first.click()
    expect(page.locator("#timeline .event.actor-customer").first).to_be_visible()
    assert blocking(page) == [], "case view"

    page.click("#customer-page-link")
    expect(page.locator("#customer-view")).to_be_visible()
    expect(page.locator("#cp-identities")).not_to_be_empty()
    assert blocking(page) == [], "customer page"
    page.click("#cp-back")

    page.click("#tab-dashboard")
    expect(page.locator("#dash-summary .tile").first).to_be_visible()
    assert blocking(page) == [], "dashboard"

    email = f"agent-{uuid.uuid4().hex[:6]}@example.com"  # an agent's inbox has no supervisor panel or tabs
    create_agent(service.database_url, email, teams="returns", name="Ana Returns")
    agent = new_page(chromium, dialogs, bypass_csp=True, viewport={"width": 1280, "height": 720})
    signs_in(agent, service.base_url, email)
    expect(agent.locator("#mine")).to_be_visible()
    assert blocking(agent) == [], "an agent's inbox"
    assert dialogs == []


def test_keyboard_alone_skips_to_the_cases_and_opens_one(chromium, service: Service, supervisor: str) -> None:
    page = new_page(chromium, [], viewport={"width": 1280, "height": 720})
    signs_in(page, service.base_url, supervisor)
    page.reload()  # fresh: the keyboard starts at the top of the page
    expect(page.locator("#queue .case-item")).to_have_count(3)
    page.keyboard.press("Tab")
    expect(page.locator("#skip-link")).to_be_focused()
    expect(page.locator("#skip-link")).to_be_visible()  # shown when focused
    page.keyboard.press("Enter")
    expect(page.locator("#workspace")).to_be_focused()
    first = page.locator(".case-item").first
    for _ in range(12):  # the search box, then the cases: the focus stays in the content, in reading order
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('workspace').contains(document.activeElement)")
        if page.evaluate("document.activeElement.classList.contains('case-item')"):
            break
    expect(first).to_be_focused()
    outline = first.evaluate("n => getComputedStyle(n).outlineStyle")
    assert outline == "solid"  # the focus is visible
    page.keyboard.press("Enter")
    expect(page.locator("#case")).to_be_visible()
    expect(first).to_have_attribute("aria-current", "true")
    clickable_divs = page.evaluate("""() => [...document.querySelectorAll('div,span,li')]
        .filter((n) => n.onclick || n.getAttribute('onclick')).length""")
    assert clickable_divs == 0  # what acts is a button or a link


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
def test_the_inbox_and_the_dashboard_fit_the_screen(chromium, service: Service, supervisor: str,
                                                   viewport: dict[str, int]) -> None:
    page = new_page(chromium, [], viewport=viewport)
    signs_in(page, service.base_url, supervisor)
    expect(page.locator("#queue .case-item")).to_have_count(3)
    page.locator("#queue .case-item").first.click()
    expect(page.locator("#timeline .event").first).to_be_visible()
    assert not scrolls_sideways(page), "inbox"
    assert page.locator("#reply-text").bounding_box()["width"] > 200  # the reply box stays usable
    page.click("#customer-page-link")
    expect(page.locator("#customer-view")).to_be_visible()
    assert not scrolls_sideways(page), "customer page"
    page.click("#cp-back")
    page.click("#tab-dashboard")
    expect(page.locator("#dash-summary .tile").first).to_be_visible()
    assert not scrolls_sideways(page), wider_than_the_page(page)
