"""The README's screenshots: a service on a fresh SQLite with a few customers on three channels, driven by
Debian's Chromium headless; PNGs under docs/screenshots/. Run: `make screenshots`
(= `python -m tests.service.browser.screenshots`)."""
from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from handoff.core.customers import resolve_customer
from handoff.core.timeline import append_event
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Agent, Case, Handoff, utcnow
from tests.service.inbox.support import create_agent, signs_in
from tests.service.support.chromium import launched_chromium
from tests.service.support.processes import REPO, free_port
from tests.service.support.stack import start_service

OUT = REPO / "docs" / "screenshots"
AGENT, SUPERVISOR = "ana@example.com", "sofia@example.com"
# (name, identity kind, value, channel, what they wrote, seconds since the handoff, the agent's)
CUSTOMERS = [
    ("María López", "phone", "+525511112222", "whatsapp", ["Hola, me cobraron dos veces", "¿me pueden ayudar?"],
     200, True),
    ("Jorge Ramírez", "phone", "+525533334444", "voice", ["Llamada: quiere cambiar la dirección de entrega"], 35, True),
    ("Lucía Fernández", "webchat", "visitor-shot-1", "webchat", ["¿Dónde está mi pedido 100002?"], 20, True),
    ("Carlos Méndez", "phone", "+525555556666", "whatsapp", ["Quiero devolver un producto"], 780, False),
    ("Ana Torres", "webchat", "visitor-shot-2", "webchat", ["reembolso tarjeta por favor"], 130, False),
]


async def seed(database_url: str) -> None:
    """Cases handed to people at different times, so the SLA clocks show each color."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        agent = await session.scalar(select(Agent).where(Agent.email == AGENT))
        assert agent is not None
        now = utcnow()
        for name, kind, value, channel, texts, ago, mine in CUSTOMERS:
            customer = await resolve_customer(session, kind, value, verified=kind == "phone", display_name=name,
                                              language="es")
            queued = now - timedelta(seconds=ago)
            answer = {"whatsapp": 900, "webchat": 120, "voice": 60}[channel]
            case = Case(customer_id=customer.id, channel=channel, language="es", team="care",
                        status="assigned" if mine else "queued", assignee_id=agent.id if mine else None,
                        queued_at=queued, answer_due_at=queued + timedelta(seconds=answer),
                        first_response_due_at=queued + timedelta(seconds=answer // 3), handoff_count=1,
                        created_at=queued - timedelta(seconds=90))  # the assistant's stretch before the handoff
            session.add(case)
            await session.flush()
            for text in texts:
                await append_event(session, case, channel=channel, direction="in", actor="customer", kind="message",
                                   text=text)
            await append_event(session, case, channel=channel, direction="out", actor="bot", kind="message",
                               text="Te comunico con una persona del equipo.")
            session.add(Handoff(case_id=case.id, reason="explicit_request", intent="return_request", team="care",
                                queued_at=queued, summary=texts[0], slots={"order_number": "100002"},
                                agent_id=agent.id if mine else None))
    await engine.dispose()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="frontdoor-shots-"))
    service = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_TIMEOUT_SECONDS": "2",
                             "SECRET_KEY": "screenshots-secret-key-0123456789", "INBOX_LOGIN_ATTEMPTS": "1000"},
                            workdir)
    try:
        create_agent(service.database_url, AGENT, teams="care", name="Ana Care", capacity=3)
        create_agent(service.database_url, SUPERVISOR, role="supervisor", teams="", name="Sofía Supervisora")
        asyncio.run(seed(service.database_url))
        with launched_chromium() as chromium:
            shoot(chromium, service.base_url)
    finally:
        service.stop()
    print(f"screenshots in {OUT}")
    return 0


def page_for(chromium, viewport: dict[str, int]):
    context = chromium.new_context(locale="en-US", viewport=viewport, color_scheme="light")  # the README's language
    context.set_default_timeout(30_000)
    return context.new_page()


def shoot(chromium, base_url: str) -> None:
    page = page_for(chromium, {"width": 1280, "height": 720})
    page.goto(f"{base_url}/inbox")
    expect(page.locator("#login-form")).to_be_visible()
    page.screenshot(path=str(OUT / "login.png"))
    signs_in(page, base_url, AGENT)
    expect(page.locator("#mine .case-item")).to_have_count(3)
    expect(page.locator("#queue .case-item")).to_have_count(2)
    page.screenshot(path=str(OUT / "inbox.png"))
    page.locator("#mine .case-item").first.click()
    expect(page.locator("#timeline .event.actor-customer").first).to_be_visible()
    page.screenshot(path=str(OUT / "case.png"))
    page.click("#customer-page-link")
    expect(page.locator("#customer-view")).to_be_visible()
    expect(page.locator("#cp-identities")).not_to_be_empty()
    page.screenshot(path=str(OUT / "customer.png"))

    tablet = page_for(chromium, {"width": 800, "height": 1280})
    signs_in(tablet, base_url, AGENT)
    expect(tablet.locator("#mine .case-item")).to_have_count(3)
    tablet.locator("#mine .case-item").nth(1).click()
    expect(tablet.locator("#timeline .event").first).to_be_visible()
    tablet.screenshot(path=str(OUT / "tablet-portrait.png"))

    boss = page_for(chromium, {"width": 1280, "height": 800})
    signs_in(boss, base_url, SUPERVISOR)
    boss.click("#tab-dashboard")
    expect(boss.locator("#dash-summary .tile").first).to_be_visible()
    boss.wait_for_timeout(300)
    boss.screenshot(path=str(OUT / "dashboard.png"), full_page=True)


if __name__ == "__main__":
    sys.exit(main())
