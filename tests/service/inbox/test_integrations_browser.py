"""Chromium: an admin reaches Integrations from the inbox, creates one (token and secret shown once; axe-core finds
no serious or critical violation), sees its webhook delivered in the log, and revokes it (the token is refused from
then on); a supervisor is refused, in Spanish."""
from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.service.inbox.support import PASSWORD, create_agent, signs_in
from tests.service.support.axe import blocking
from tests.service.support.webchat_client import Visitor
from tests.service.support.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.browser]


def page_accepting_dialogs(chromium: Any, locale: str = "en-US") -> Any:
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 720}, bypass_csp=True)  # axe
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the revoke confirmation
    return page


def customer_writes(base_url: str, text: str) -> None:
    """A website visitor whose message goes to people (the service's assistant is unreachable): case.handed_off."""
    async def visit() -> None:
        visitor = Visitor(base_url)
        await visitor.connect()
        await visitor.say(text, metadata={"language": "es"})
        await visitor.close()
    with ThreadPoolExecutor(1) as pool:  # Playwright owns this thread's event loop
        pool.submit(asyncio.run, visit()).result()


def test_an_admin_creates_watches_the_delivery_log_and_revokes_an_integration(chromium, inbox_service) -> None:
    receiver = WebhookReceiver().start()
    admin, supervisor = (f"{role}-{uuid.uuid4().hex[:6]}@example.com" for role in ("admin", "sup"))
    create_agent(inbox_service.database_url, admin, role="admin")
    create_agent(inbox_service.database_url, supervisor, role="supervisor")
    page = page_accepting_dialogs(chromium)
    signs_in(page, inbox_service.base_url, admin)
    page.click("#integrations-link")
    expect(page.locator("h1")).to_have_text("Integrations")
    name = f"CRM {uuid.uuid4().hex[:4]}"
    page.fill("#integration-name", name)
    page.check("input[name=scope][value='contacts:write']")
    page.check("input[name=scope][value='webhooks']")
    page.fill("#integration-url", receiver.url)
    page.check("input[name=event][value='case.handed_off']")
    page.click("#integration-form button[type=submit]")
    expect(page.locator("#integration-created")).to_be_visible()
    token = page.locator("#integration-token").text_content() or ""
    assert re.fullmatch(r"fdi_[A-Za-z0-9_-]{43}", token)
    expect(page.locator("#integration-secret")).to_have_text(re.compile(r"^whsec_[0-9a-f]{64}$"))
    row = page.locator("#integrations-rows tr", has_text=name)
    expect(row).to_contain_text("contacts:write, webhooks")
    expect(row).to_contain_text("case.handed_off")
    expect(row).to_contain_text("Active")
    assert token not in (row.text_content() or "")
    integration_id = row.get_attribute("data-integration")
    assert blocking(page) == [], "the integrations page"  # axe-core: no serious or critical violation

    customer_writes(inbox_service.base_url, "necesito ayuda con mi factura")
    page.select_option("#deliveries-integration", integration_id)
    delivered = page.locator("#deliveries-rows tr[data-status='sent']", has_text="case.handed_off")
    for _ in range(60):
        if delivered.count():
            break
        page.click("#deliveries-refresh")
        page.wait_for_timeout(500)
    expect(delivered.first).to_contain_text("Delivered")
    expect(delivered.first).to_contain_text("HTTP 200")
    bodies = receiver.bodies()  # the case, never what the customer wrote
    assert any(b"case.handed_off" in item.body for item in bodies) and all(b"necesito" not in item.body
                                                                           for item in bodies)

    first_secret = page.locator("#integration-secret").text_content()
    row.locator("button[data-rotate]").click()  # a new webhook secret, shown once, without a token
    expect(page.locator("#integration-secret")).not_to_have_text(first_secret or "")
    expect(page.locator("#integration-secret")).to_have_text(re.compile(r"^whsec_[0-9a-f]{64}$"))
    expect(page.locator("#integration-token-line")).to_be_hidden()
    row.locator("button[data-revoke]").click()
    expect(row).to_contain_text("Revoked")
    expect(row.locator("button[data-revoke]")).to_have_count(0)
    me = httpx.get(f"{inbox_service.base_url}/api/v1/integrations/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401

    other = page_accepting_dialogs(chromium, locale="es-MX")  # a supervisor whose browser speaks Spanish
    other.goto(f"{inbox_service.base_url}/inbox/integrations")
    expect(other.locator("#integrations-refused")).to_have_text("Inicia sesión primero en la bandeja.")
    other.goto(f"{inbox_service.base_url}/inbox")
    other.fill("#login-email", supervisor)
    other.fill("#login-password", PASSWORD)
    other.click("#login-submit")
    expect(other.locator("#app-view")).to_be_visible()
    expect(other.locator("#integrations-link")).to_be_hidden()
    other.goto(f"{inbox_service.base_url}/inbox/integrations")
    expect(other.locator("#integrations-refused")).to_have_text("Solo los administradores gestionan integraciones.")
    expect(other.locator("h1")).to_have_text("Integraciones")
    expect(other.locator("#integrations-admin")).to_be_hidden()
    receiver.stop()
