"""Chromium: our widget passes the site's signed identity (`data-identity-token`, `FrontDoor.identify(token)`) and
shows the conversation the customer began on WhatsApp; a bad token is a visible notice, nothing more (issue 13)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import expect

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Customer, Identity
from tests.service.support.merging import case_with_events
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("widget_js")]

SECRET = "site-identity-secret-0123456789abcdef"
HOST = "handoff-webchat"
LOG = f"{HOST} [role=log]"
CUSTOMER = f"{LOG} .msg.customer .bubble"
ERROR = f"{LOG} .system.error"


def token(sub: str, secret: str = SECRET) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + 3600}, secret, algorithm="HS256")


async def seed(database_url: str, crm: str, text: str) -> None:
    """A customer the site knows as `crm`, with an open WhatsApp case."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        customer = Customer(display_name="Ana", language="es", facts={})
        session.add(customer)
        await session.flush()
        session.add(Identity(customer_id=customer.id, kind="crm", value=crm, verified=True, verified_by="site_token"))
        await case_with_events(session, customer, "whatsapp", "bot", texts=(text,))
    await engine.dispose()


@pytest.fixture(scope="module")
def identity_service(workdir: Path, static_site) -> Iterator[Service]:
    """No assistant behind it: joining a customer and showing their history need none."""
    service = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_RETRIES": "0",
                             "SECRET_KEY": "widget-identity-secret-0123456789",
                             "WEBCHAT_IDENTITY_SECRET": SECRET, "WEBCHAT_ALLOWED_ORIGINS": static_site.origin},
                            workdir)
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop may already run in this thread
        for crm, text in (("crm-tag", "mi pedido 100002 no llega"), ("crm-api", "quiero cambiar mi dirección")):
            pool.submit(asyncio.run, seed(service.database_url, crm, text)).result()
    yield service
    service.stop()


def site_page(static_site, service: Service, name: str, attributes: str = "") -> str:
    return static_site.write(name, f"""<!doctype html><html lang="es"><head><meta charset="utf-8"></head><body>
<script src="{service.base_url}/widget/widget.js" data-open="true" {attributes} defer></script></body></html>""")


def test_the_script_tags_identity_token_shows_the_whatsapp_conversation(page, static_site, identity_service):
    page.goto(site_page(static_site, identity_service, "signed-in.html", f'data-identity-token="{token("crm-tag")}"'))
    expect(page.locator(CUSTOMER)).to_have_text(["mi pedido 100002 no llega"])
    expect(page.locator(ERROR)).to_have_count(0)
    assert page.page_errors == []


def test_identify_after_sign_in_joins_the_customer_and_a_bad_token_is_only_a_notice(page, static_site,
                                                                                     identity_service):
    page.goto(site_page(static_site, identity_service, "anonymous.html"))
    page.wait_for_function("() => window.FrontDoor && window.FrontDoor.sessionId")
    expect(page.locator(CUSTOMER)).to_have_count(0)
    page.evaluate("t => window.FrontDoor.identify(t)", token("crm-api", secret="x" * 40))
    expect(page.locator(ERROR)).to_contain_text("No pudimos confirmar tu identidad")
    expect(page.locator(CUSTOMER)).to_have_count(0)
    page.evaluate("t => window.FrontDoor.identify(t)", token("crm-api"))
    expect(page.locator(CUSTOMER)).to_have_text(["quiero cambiar mi dirección"])
    assert page.page_errors == []
