"""Chromium: a WhatsApp customer last wrote 25 hours ago; the agent picks an approved template in the reply box,
sees its parameter prefilled and the preview of what the customer will read (text, never markup), sends it, and
Meta's stand-in receives the template; the timeline shows it with its delivery; an opt-out takes the picker away
with the reason. No assistant runs (its port is
closed: the customer's message goes to people at once)."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import TimelineEvent
from tests.service.inbox.support import agent_logs_in, approved_spanish_first, create_agent, new_page
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.polling import until_sync
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service
from tests.service.support.whatsapp_webhooks import APP_SECRET, WA_ID, post_signed, status_webhook, text_webhook

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"
RENDERED = "Hola {}, tenemos novedades sobre tu caso. Responde a este mensaje para continuar la conversación."


@pytest.fixture(scope="module")
def graph_api() -> Iterator[GraphStandIn]:
    standin = GraphStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def service(workdir: Path, graph_api: GraphStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_TIMEOUT_SECONDS": "2",
                             "BOT_RETRIES": "0", "SECRET_KEY": "templates-browser-secret-0123456789",
                             "INBOX_LOGIN_ATTEMPTS": "1000", "WHATSAPP_APP_SECRET": APP_SECRET,
                             "WHATSAPP_VERIFY_TOKEN": "verify", "WHATSAPP_ACCESS_TOKEN": TOKEN,
                             "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_API_BASE": graph_api.base_url,
                             "MEDIA_DIR": str(tmp_path_factory.mktemp("media"))}, workdir)
    yield running
    running.stop()


def delivery_of(database_url: str, event_id: int) -> str | None:
    async def read() -> str | None:
        engine = create_engine(database_url)
        async with session_factory(engine)() as session:
            status = await session.scalar(select(TimelineEvent.delivery_status).where(TimelineEvent.id == event_id))
        await engine.dispose()
        return status
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        return pool.submit(asyncio.run, read()).result()


def templates_sent(graph: GraphStandIn) -> list[tuple[int, dict[str, Any]]]:
    """(position among the stand-in's sends, body) of each template message: the stand-in numbers its ids so."""
    return [(number, body) for number, body in enumerate(graph.sends(), start=1) if body.get("type") == "template"]


def test_after_the_window_an_agent_picks_a_template_sees_the_preview_and_meta_receives_it(
        browser: Any, service: Service, graph_api: GraphStandIn) -> None:
    email = f"ana-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(service.database_url, email, teams="care,returns,fraud", name="Ana Care")
    dialogs: list[str] = []
    inbox = new_page(browser, dialogs)
    agent_logs_in(inbox, service.base_url, email)
    yesterday = str(int(time.time()) - 25 * 3600)
    answer = post_signed(service.base_url, text_webhook("hola, ¿y mi pedido?", wamid="wamid.OLD1", timestamp=yesterday))
    assert answer.status_code == 200, answer.text

    case_item = inbox.locator("#mine .case-item").first
    expect(case_item).to_be_visible(timeout=60_000)
    case_item.click()
    expect(inbox.locator("#timeline .event.actor-customer .text").first).to_have_text("hola, ¿y mi pedido?")
    expect(inbox.locator("#templates")).to_be_visible()
    expect(inbox.locator("#template-form")).to_be_hidden()
    inbox.click("#template-open")
    expect(inbox.locator("#template-choice option")).to_have_text(
        [f"{name} ({language})" for name, language in approved_spanish_first()])
    parameter = inbox.locator("#template-params input")
    expect(parameter).to_have_value("Sheena Nelson")  # the customer's WhatsApp profile name
    preview = inbox.locator("#template-preview")
    expect(preview).to_have_text(RENDERED.format("Sheena Nelson"))

    parameter.fill(XSS)  # the preview is text: nothing in it is markup
    expect(preview).to_have_text(RENDERED.format(XSS))
    assert preview.locator("img").count() == 0 and dialogs == []
    inbox.select_option("#template-choice", label="missed_call (en_US)")
    expect(preview).to_have_text("Hi Sheena Nelson, we saw your call and couldn't take it. Reply here and we'll "
                                 "continue your case on WhatsApp.")
    inbox.select_option("#template-choice", label="case_follow_up (es_MX)")
    parameter.fill("Sheena")
    expect(preview).to_have_text(RENDERED.format("Sheena"))
    assert templates_sent(graph_api) == []
    inbox.click("#template-send")

    graph_api.wait_for(lambda: templates_sent(graph_api), what="the template")
    [(number, body)] = templates_sent(graph_api)
    assert body == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "template",
                    "template": {"name": "case_follow_up", "language": {"policy": "deterministic", "code": "es_MX"},
                                 "components": [{"type": "body",
                                                 "parameters": [{"type": "text", "text": "Sheena"}]}]}}
    sent = inbox.locator("#timeline .event.actor-agent", has_text="tenemos novedades")
    expect(sent.locator(".text")).to_have_text(RENDERED.format("Sheena"))
    expect(sent.locator(".tag.template")).to_have_text("template case_follow_up")
    expect(inbox.locator("#template-form")).to_be_hidden()
    assert not any("Ana Care" in str(b) for b in graph_api.sends())  # no "agent joined" free text outside the window

    event_id = int(sent.get_attribute("data-event-id") or 0)
    assert post_signed(service.base_url, status_webhook(f"wamid.standin{number:06d}", "delivered")).status_code == 200
    until_sync(lambda: delivery_of(service.database_url, event_id) == "delivered", "the template delivered")
    case_item.click()  # the case again, as reloading it shows
    expect(inbox.locator(f'#timeline [data-event-id="{event_id}"] .tag', has_text="delivered")).to_be_visible()

    inbox.click("#whatsapp-consent-btn")  # Mark opted out: the reply box says why no template may go
    expect(inbox.locator("#template-refusal")).to_contain_text("opted out of WhatsApp messages")
    expect(inbox.locator("#template-open")).to_be_hidden()
    inbox.click("#whatsapp-consent-btn")  # Clear opt-out
    expect(inbox.locator("#template-open")).to_be_visible()
    expect(inbox.locator("#template-refusal")).to_have_text("")

    assert post_signed(service.base_url, text_webhook("gracias, ya vi", wamid="wamid.NEW1")).status_code == 200
    expect(inbox.locator("#timeline .event.actor-customer .text").last).to_have_text("gracias, ya vi")
    case_item.click()
    expect(inbox.locator("#templates")).to_be_hidden()  # the window is open again: free text goes
    assert dialogs == []
