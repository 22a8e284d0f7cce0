"""Chromium: an agent whose phone was set with the command line sees the team's callback (the customer's name as
text), presses Call now, and the Twilio REST stand-in is asked to call that phone; a callback asked for on the
case on screen joins the list until it is cancelled."""
from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from handoff.core.callbacks import request_callback
from handoff.core.cases import open_case
from handoff.core.customers import resolve_customer
from handoff.store.db import create_engine, session_factory
from handoff.store.models import utcnow
from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.support.processes import REPO, free_port
from tests.service.support.stack import VENV, Service, start_service
from tests.service.support.twilio_api import ACCOUNT_SID, CALLER_ID, TwilioStandIn

pytestmark = [pytest.mark.browser]
XSS = "<img src=x onerror=alert(1)> Lucía"
TOKEN = "callbacks-browser-twilio-token"


@pytest.fixture(scope="module")
def twilio_rest() -> Iterator[TwilioStandIn]:
    standin = TwilioStandIn(auth_token=TOKEN).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def service(workdir: Path, twilio_rest: TwilioStandIn) -> Iterator[Service]:
    """No Rasa (handoffs come from bot_unavailable); Twilio's REST API is the stand-in."""
    started = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_RETRIES": "0",
                             "SECRET_KEY": "callbacks-browser-secret-key-0123456789", "INBOX_LOGIN_ATTEMPTS": "1000",
                             "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                             "TWILIO_CALLER_ID": CALLER_ID, "TWILIO_API_BASE": twilio_rest.base_url}, workdir)
    yield started
    started.stop()


def seed_callback(database_url: str, phone: str) -> tuple[str, int, str]:
    """A care case of a customer named with markup, and the callback they asked for (window open now); and another
    customer's care case without one."""
    async def run() -> tuple[str, int, str]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                customer = await resolve_customer(session, "phone", phone, verified=True, display_name=XSS)
                case = await open_case(session, customer, "webchat", follow_up_window_hours=72)
                case.team, case.status = "care", "queued"
                now = utcnow()
                callback = await request_callback(session, case, phone=None, actor="customer",
                                                  window_start=now - timedelta(minutes=5),
                                                  window_end=now + timedelta(hours=1))
                other = await resolve_customer(session, "phone", phone[:-1] + str((int(phone[-1]) + 1) % 10),
                                               verified=True, display_name="Otro cliente")
                second = await open_case(session, other, "webchat", follow_up_window_hours=72)
                second.team, second.status = "care", "queued"
                return case.id, callback.id, second.id
        finally:
            await engine.dispose()
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_an_agent_places_the_teams_callback_and_asks_for_another(chromium, service: Service,
                                                                 twilio_rest: TwilioStandIn) -> None:
    email = f"cb-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(service.database_url, email, teams="care")
    cli = subprocess.run([str(VENV / "bin" / "python"), "-m", "handoff", "agents", "phone", "--email", email,
                          "--phone", "sip:ana@pbx.example.com"], cwd=REPO, text=True, capture_output=True,
                         env={**os.environ, "DATABASE_URL": service.database_url})
    assert cli.returncode == 0, cli.stderr
    bad = subprocess.run([str(VENV / "bin" / "python"), "-m", "handoff", "agents", "phone", "--email", email,
                          "--phone", "not a phone"], cwd=REPO, text=True, capture_output=True,
                         env={**os.environ, "DATABASE_URL": service.database_url})
    assert bad.returncode == 2 and "not a phone number" in bad.stderr
    phone = f"+5255{uuid.uuid4().int % 10**8:08d}"
    _, callback_id, other_case = seed_callback(service.database_url, phone)
    dialogs: list[str] = []
    page = new_page(chromium, dialogs)
    agent_logs_in(page, service.base_url, email)
    expect(page.locator("#my-phone")).to_have_value("sip:ana@pbx.example.com")
    item = page.locator(f"#callbacks li[data-callback-id='{callback_id}']")
    expect(item.locator(".callback-case")).to_have_text(XSS)  # the markup as text
    expect(item).to_contain_text(phone)
    expect(item).to_contain_text("(now)")
    item.locator(".call-now").click()
    expect(page.locator("#callbacks-error")).to_have_text("Calling your phone…")
    expect(item).to_have_count(0)  # placing: no longer waiting in the list
    placed = [form for form in twilio_rest.calls if form.get("Url", "").endswith(f"/callbacks/{callback_id}/bridge")]
    assert len(placed) == 1 and placed[0]["To"] == "sip:ana@pbx.example.com" and placed[0]["From"] == CALLER_ID

    page.locator(f".case-list .case-item[data-case-id='{other_case}']").click()
    page.fill("#callback-start", "2099-01-01T10:00")
    page.fill("#callback-end", "2099-01-01T12:00")
    page.click("#callback-form button[type=submit]")
    expect(page.locator("#callback-error")).to_contain_text("window must start within")  # too far ahead, refused
    start, end = utcnow() + timedelta(hours=2), utcnow() + timedelta(hours=3)
    page.fill("#callback-start", start.astimezone().strftime("%Y-%m-%dT%H:%M"))
    page.fill("#callback-end", end.astimezone().strftime("%Y-%m-%dT%H:%M"))
    page.fill("#callback-phone", "55 1234 0000")
    page.click("#callback-form button[type=submit]")
    expect(page.locator("#callback-error")).to_have_text("Callback requested: +525512340000")
    requested = page.locator("#callbacks li", has_text="+525512340000")
    expect(requested).to_contain_text("(later)")
    requested.locator(".cancel-callback").click()
    expect(page.locator("#callbacks-error")).to_have_text("Cancelled")
    expect(requested).to_have_count(0)
    expect(page.locator("#timeline .event.kind-callback")).to_have_count(2)  # requested, then cancelled
    assert dialogs == []
