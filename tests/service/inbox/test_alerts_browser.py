"""Chromium: an agent who turned alerts on (notifications granted in the test) gets a desktop notification and a
tone for a new case, for the customer's reply and for a promise coming due, never before turning them on; the list
shows the unread count (kept on the server, gone once the case is opened) and the SLA clock, whose color follows
the time left live."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.support.desk import CAPTURE_ALERTS, customer_writes, notes
from tests.service.support.polling import until_sync
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def service(workdir: Path) -> Iterator[Service]:
    """Its own database: no other test's queued case reaches this agent when she comes online."""
    running = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_TIMEOUT_SECONDS": "2",
                             "BOT_RETRIES": "0", "SECRET_KEY": "alerts-browser-secret-0123456789",
                             "INBOX_LOGIN_ATTEMPTS": "1000", "COMMITMENTS_DUE_CHECK_SECONDS": "1"}, workdir)
    yield running
    running.stop()


def test_a_new_case_and_a_reply_notify_the_agent_who_turned_alerts_on(chromium, service: Service) -> None:
    email = f"ana-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(service.database_url, email, teams="care", name="Ana Care", capacity=5)
    dialogs: list[str] = []
    inbox = new_page(chromium, dialogs, permissions=["notifications"])
    inbox.add_init_script(CAPTURE_ALERTS)
    agent_logs_in(inbox, service.base_url, email)
    assert inbox.evaluate("Notification.permission") == "granted"
    toggle = inbox.locator("#alerts-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")

    customer_writes(service.base_url, "hola, ¿alguien?")  # alerts still off: the case comes, silently
    expect(inbox.locator("#mine .case-item")).to_have_count(1)
    inbox.wait_for_timeout(500)
    assert notes(inbox) == [] and inbox.evaluate("window.__tones") == 0

    toggle.focus()
    inbox.keyboard.press("Enter")  # turned on from the keyboard
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_have_text("Notifications on")
    session = customer_writes(service.base_url, "necesito un reembolso de mi tarjeta")
    until_sync(lambda: any(n["title"] == "New case for you" for n in notes(inbox)), "the new case's notification")
    [offer] = [n for n in notes(inbox) if n["title"] == "New case for you"]
    assert offer["body"].startswith("Customer · webchat") and offer["tag"].startswith("offer:")
    case_id = offer["tag"].removeprefix("offer:")
    assert inbox.evaluate("window.__tones") >= 2  # the chime's two tones

    item = inbox.locator(f"#mine .case-item[data-case-id='{case_id}']")
    expect(item.locator(".unread")).to_have_text("1 unread")
    customer_writes(service.base_url, "es urgente", session)  # she replies on the case, not open on screen
    until_sync(lambda: any(n["tag"] == f"reply:{case_id}" for n in notes(inbox)), "the reply's notification")
    [reply] = [n for n in notes(inbox) if n["tag"] == f"reply:{case_id}"]
    assert (reply["title"], reply["body"]) == ("Reply from Customer", "es urgente")
    expect(item.locator(".unread")).to_have_text("2 unread")

    sla = item.locator(".sla")  # webchat: a person's answer within sla.answer (120 s in operations.yml)
    expect(sla).to_have_attribute("data-state", "ok")
    expect(sla).to_contain_text("left")
    before = sla.text_content()
    expect(sla).not_to_have_text(before or "", timeout=3_000)  # it counts down, no reload
    sla.evaluate("n => { n.dataset.due = new Date(Date.now() + 10000).toISOString(); }")
    expect(sla).to_have_attribute("data-state", "warning")
    expect(sla).to_have_class("sla sla-warning")
    sla.evaluate("n => { n.dataset.due = new Date(Date.now() - 65000).toISOString(); }")
    expect(sla).to_have_attribute("data-state", "breached")
    expect(sla).to_contain_text("SLA late by 1m")

    item.click()  # opening the case reads it
    expect(inbox.locator("#timeline .event.actor-customer .text").last).to_have_text("es urgente")
    expect(item.locator(".unread")).to_have_count(0)
    count = len(notes(inbox))
    customer_writes(service.base_url, "gracias", session)  # on screen and visible: read at once, no alert
    expect(inbox.locator("#timeline .event.actor-customer .text").last).to_have_text("gracias")
    inbox.wait_for_timeout(500)
    assert len(notes(inbox)) == count
    inbox.evaluate("Object.defineProperty(document, 'hidden', { configurable: true, get: () => true })")
    customer_writes(service.base_url, "¿sigues ahí?", session)  # on screen but the tab is hidden: alerted
    until_sync(lambda: len([n for n in notes(inbox) if n["tag"] == f"reply:{case_id}"]) == 2, "the second reply")
    inbox.evaluate("delete document.hidden; document.dispatchEvent(new Event('visibilitychange'))")
    expect(item.locator(".unread")).to_have_count(0)  # the case on screen is read
    inbox.reload()  # the count is the server's: still nothing unread after a reload
    expect(inbox.locator("#live-state")).to_have_text("live")
    expect(inbox.locator(f"#mine .case-item[data-case-id='{case_id}']")).to_be_visible()
    expect(inbox.locator(f"#mine .case-item[data-case-id='{case_id}'] .unread")).to_have_count(0)
    expect(inbox.locator("#mine .case-item .unread")).to_have_text(["1 unread"])  # the first case, never opened
    expect(toggle).to_have_attribute("aria-pressed", "true")  # the choice is kept in this browser
    assert notes(inbox) == [] and dialogs == []  # nothing new: a reload announces no case again

    status, commitment_id = inbox.evaluate(PROMISE_IN_TWO_SECONDS, case_id)  # through the inbox's own API
    assert status == 201
    until_sync(lambda: any(n["tag"] == f"commitment:{commitment_id}" for n in notes(inbox)), "the due alert")
    [due] = [n for n in notes(inbox) if n["tag"] == f"commitment:{commitment_id}"]
    assert (due["title"], due["body"]) == ("Commitment due", "Reembolso en 5 días")
    alert = inbox.locator("#commitment-alerts .commitment-alert")
    expect(alert).to_contain_text("Reembolso en 5 días")
    alert.locator(".dismiss-alert").focus()
    inbox.keyboard.press("Escape")  # Escape dismisses it
    expect(inbox.locator("#commitment-alerts")).to_be_hidden()


PROMISE_IN_TWO_SECONDS = """async (caseId) => {
  const me = await (await fetch("/inbox/api/me")).json();
  const response = await fetch(`/inbox/api/cases/${caseId}/commitments`, { method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token },
    body: JSON.stringify({ text: "Reembolso en 5 días", due_at: new Date(Date.now() + 2000).toISOString() }) });
  return [response.status, (await response.json()).id];
}"""
